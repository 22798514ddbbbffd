// Measures of pretrain-test task alignment (spec: task-alignment §4) and their evaluation by rank
// correlation with the ICL error (Figs 2 and 3), plus Ruhe's bounds on e_misalign (Corollary IV.1).
#pragma once

#include <vector>

#include "iclab/covariances/covariance_spec.hpp"
#include "iclab/theory/general.hpp"

namespace iclab::theory {

struct AlignmentMeasures {
  double misalignment = 0.0;    // e_misalign = <C_test K>                               (key 'mary')
  double resolvent = 0.0;       // <C_test F_kappa(sigma)>, sigma including lambda~        (key 'F')
  double trace = 0.0;           // <C_train^-1 C_test>; +inf when C_train is singular      (key 'trace')
  bool trace_singular = false;  // warning: C_train is singular, the trace measure is undefined
  double inverse_cka = 0.0;     // 1/CKA(C_train, C_test)                                  (key 'cka')
};

// <C_test F>: test_diagonal = diag(U^T C_test U) as from AlignmentTheory::project.
double resolvent_alignment(const PretrainingTheory& theory, const Vector& test_diagonal);

// <C_train^-1 C_test> = mean_i c_i/lambda_i. C_train counts as singular when its smallest eigenvalue
// is <= 1e-12 times its largest; then the value is +inf and `singular` is set.
struct TraceAlignment {
  double value = 0.0;
  bool singular = false;
};
TraceAlignment trace_alignment(const Vector& train_eigenvalues, const Vector& test_diagonal);

// HSIC(A, B) = tr(H A H B)/(d-1)^2 with H = I - 11^T/d, the covariances used as Gram matrices (the
// authors' `cka`). The centring is not rotation invariant, so this works in the original basis.
double hsic(const TaskCovariance& a, const TaskCovariance& b);
// 1/CKA, CKA = HSIC(A, B)/sqrt(HSIC(A, A) HSIC(B, B)) in [0, 1]: +inf for CKA = 0. When a self-HSIC
// vanishes (C = 0 or a covariance proportional to 11^T) CKA is 0/0: InvalidArgument naming --ctrain
// (for a) or --ctest (for b).
double inverse_cka(const TaskCovariance& a, const TaskCovariance& b);

// All four measures of one C_test (theory = alignment.solve(point), alignment built from train).
AlignmentMeasures alignment_measures(const AlignmentTheory& alignment, const PretrainingTheory& theory,
                                     const TaskCovariance& train, const TaskCovariance& test);

// Spearman rank correlation of each measure with the errors over a set of test covariances (one
// measure/error pair per test). The authors average these over kappa (spec §4).
struct AlignmentSpearman {
  double misalignment = 0.0;
  double resolvent = 0.0;
  double trace = 0.0;
  double inverse_cka = 0.0;
};
AlignmentSpearman alignment_spearman(const std::vector<AlignmentMeasures>& measures,
                                     const std::vector<double>& errors);

// Ruhe's trace inequality at fixed spectra (Corollary IV.1): with the test eigenvalues c and the
// eigenvalues k of K, mean(c_desc * k_asc) <= e_misalign <= mean(c_desc * k_desc); the bounds are
// attained by covariances that commute with C_train.
struct MisalignmentBounds {
  double lower = 0.0;
  double upper = 0.0;
};
MisalignmentBounds ruhe_bounds(const Vector& k, const Vector& test_eigenvalues);

}  // namespace iclab::theory

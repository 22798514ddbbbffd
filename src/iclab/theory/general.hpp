// Asymptotic theory of the reduced linear-attention model for general task covariances
// (Letey et al.; spec: task-alignment §3 and §8). d -> infinity with alpha = l/d, tau = n/d^2,
// kappa = k/d fixed, ridgeless (lambda -> 0+). Tasks: pretraining t ~ N(0, C_train), test t ~ N(0, C_test).
//
// Everything is deterministic: the resolvent F_kappa(sigma), the deterministic equivalent of
// (R_k + sigma I)^-1, solves its self-consistent equation by a bracketed root (the authors' code
// estimated it by Monte Carlo instead). All C_train-dependent quantities are diagonal in C_train's
// eigenbasis U, so after one eigendecomposition a point costs O(d), and a test covariance enters only
// through diag(U^T C_test U).
#pragma once

#include <optional>
#include <vector>

#include "iclab/covariances/covariance_spec.hpp"
#include "iclab/linalg/dense.hpp"

namespace iclab::theory {

// The ratios of one point. kappa = +inf means a fresh task per context (then a = 1).
struct AlignmentPoint {
  double alpha = 0.0;  // l/d of the pretraining contexts
  double tau = 0.0;    // n/d^2; the ridgeless theory diverges at tau = 1
  double kappa = 0.0;  // k/d
  double rho = 0.0;    // label-noise variance
  std::optional<double> alpha_test;  // l_test/d; empty: alpha. Enters e_scalar only (spec §3.3).

  double test_alpha() const { return alpha_test.value_or(alpha); }
  // Throws InvalidArgument naming the option (--alpha, --tau, --kappa, --rho, --alpha-test).
  void validate() const;
};

// F_kappa(sigma) = [sigma I + a C_train]^-1 in C_train's eigenbasis (spec §3.1, Eq. 17), with
// a = 1 - (1 - sigma M)/kappa and M = <F>.
struct Resolvent {
  double sigma = 0.0;
  double a = 1.0;
  double M = 0.0;            // M_kappa(sigma) = <F>
  double M_prime = 0.0;      // dM/dsigma (< 0)
  double train_overlap = 0.0;  // <C_train F>; 1 - sigma M = a <C_train F> without cancellation
  Vector F;                  // F_i = 1/(sigma + a lambda_i)
  Vector F_prime;            // dF_i/dsigma = -(1 + (M + sigma M') lambda_i/kappa) F_i^2
};

// Solvers on the spectrum lambda of C_train (any order, zeros allowed), sigma > 0.
// a: the root of g(a) = a (1 + <lambda/(sigma + a lambda)>/kappa) - 1 in (0, 1]; g is increasing with
// g(0) = -1, g(1) >= 0, so the bracket [0, 1] always holds (a = 1 for kappa = inf).
double resolvent_scale(const Vector& train_eigenvalues, double kappa, double sigma);
double stieltjes(const Vector& train_eigenvalues, double kappa, double sigma);  // M_kappa(sigma)
Resolvent resolvent(const Vector& train_eigenvalues, double kappa, double sigma);
// lambda~ (spec §3.2): 0 for tau > 1; for tau < 1 the root of lambda~ M_kappa(x + lambda~) = 1 - tau,
// x = (<C_train> + rho)/alpha (left side increases from 0 to 1).
double effective_ridge(const Vector& train_eigenvalues, const AlignmentPoint& p);

// Everything that depends on C_train's spectrum and the ratios but not on C_test (spec §3.2-3.3).
struct PretrainingTheory {
  AlignmentPoint point;
  double lambda_tilde = 0.0;  // effective ridge
  double sigma = 0.0;         // (<C_train> + rho)/alpha + lambda~
  double q = 0.0;             // pretraining-error term
  double b = 0.0;             // 1 - 2 sigma M - sigma^2 M' (>= 0), evaluated without cancellation
  double q_h = 0.0;           // q (M + lambda~ M'), likewise
  Resolvent resolvent;        // F_kappa(sigma) and its derivatives
  Vector K;                   // eigenvalues k_i of K = q F + (q lambda~ - sigma^2) F', same order as lambda

  double e_idg() const { return point.tau * q; }
};
// Does not validate p (call p.validate() once per sweep; AlignmentTheory::solve does it per call).
PretrainingTheory pretraining_theory(const Vector& train_eigenvalues, const AlignmentPoint& p);

// e_ICL = e_scalar + e_misalign (spec §3.3, Eqs. 19-21).
struct IclError {
  double e_scalar = 0.0;    // rho + ((c_test + rho)/alpha_test)(1 + (q - 2 sigma) M + (lambda~ q - sigma^2) M')
  double e_misalign = 0.0;  // <C_test K> = mean_i c_i k_i
  double e_icl = 0.0;
};
// test_diagonal: c_i = (U^T C_test U)_ii in the order of the train eigenvalues the theory was built on.
IclError icl_error(const PretrainingTheory& theory, const Vector& test_diagonal);

// The theory for one C_train: caches its eigendecomposition (taken from the TaskCovariance, so no
// decomposition happens here) and evaluates any number of C_test, commuting or not.
class AlignmentTheory {
 public:
  explicit AlignmentTheory(const TaskCovariance& train);
  // C_train = U diag(eigenvalues) U^T; an empty U means U = I (diagonal C_train in index order).
  AlignmentTheory(Vector train_eigenvalues, Matrix train_eigenvectors);

  long dim() const { return static_cast<long>(eigenvalues_.size()); }
  const Vector& train_eigenvalues() const { return eigenvalues_; }
  bool train_is_diagonal() const { return eigenvectors_.size() == 0; }

  // diag(U^T C_test U): O(d) when both are diagonal, O(d^2) when one is, one d x d product otherwise.
  Vector project(const TaskCovariance& test) const;
  Vector project(const Matrix& test) const;

  PretrainingTheory solve(const AlignmentPoint& p) const;  // validates p
  IclError evaluate(const PretrainingTheory& theory, const TaskCovariance& test) const;
  // One solve, then every test: the efficient way to sweep many C_test at one point.
  std::vector<IclError> evaluate(const AlignmentPoint& p, const std::vector<TaskCovariance>& tests) const;

 private:
  Vector eigenvalues_;
  Matrix eigenvectors_;  // empty when C_train is diagonal
};

}  // namespace iclab::theory

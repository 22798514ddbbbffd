// Optimal pretraining covariances (spec: task-alignment §5, Fig 4) and the spectrum of the alignment
// matrix K against C_train's (§3.4, Fig 5). Theory only.
#pragma once

#include <vector>

#include "iclab/linalg/dense.hpp"
#include "iclab/theory/general.hpp"

namespace iclab::theory {

// Fig 4: C_test = power law p_test, C_train = power law p_test + dp (both trace d, diagonal, sorted the
// same way), the improvement of e_ICL over training on C_test itself. Paper values: d = 100,
// p_test = 0.9, alpha = 1, tau = 4, rho = 0.01, dp = linspace(-0.5, 2, 51), kappa = linspace(0.1, 2.1, 81).
struct HeatmapRequest {
  long d = 100;
  double p_test = 0.9;
  double alpha = 1.0;
  double tau = 4.0;
  double rho = 0.01;
  std::vector<double> delta_p;
  std::vector<double> kappa;
};

struct HeatmapCell {
  double delta_p = 0.0;
  double kappa = 0.0;
  double e_icl = 0.0;            // e_ICL(C_train(p_test + dp), C_test)
  double e_matched = 0.0;        // e_ICL(C_test, C_test)
  double improvement_pct = 0.0;  // -100 (e_icl - e_matched)/e_matched; > 0: the mismatched C_train is better
};

// Rows in dp-major order (all kappa for the first dp, then the next dp). Both covariances are
// diagonal, so no eigendecomposition is needed: each cell is one O(d) solve.
std::vector<HeatmapCell> optimal_pretraining_heatmap(const HeatmapRequest& request);
// The cell with the largest improvement (the first one on ties); the cells must not be empty.
const HeatmapCell& best_improvement(const std::vector<HeatmapCell>& cells);

// Fig 5: one row per eigen-direction of C_train, in the order of its eigenvalues as given.
struct KEigenvalue {
  long index = 0;                // position in the given spectrum
  double train_eigenvalue = 0.0;  // lambda_i
  double k = 0.0;                 // k_i = q F_i + (q lambda~ - sigma^2) F'_i
};
std::vector<KEigenvalue> k_spectrum(const Vector& train_eigenvalues, const AlignmentPoint& point);

}  // namespace iclab::theory

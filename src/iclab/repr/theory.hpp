// Closed forms of 2408.10147 (spec B5-B6) for one dictionary: the population loss of any attention matrix,
// its minimiser A* (ridge over the basis functions with penalty m tau), the best predictor (penalty N tau),
// the performance gap of Fig 3, and the linear-rate fit of a training curve. Torch-free (Eigen).
#pragma once

#include <vector>

#include "iclab/linalg/dense.hpp"
#include "iclab/repr/task.hpp"

namespace iclab::repr {

// With Z the first N representations (m x N) and G = Z^T Z + m tau I_N, the population loss of the
// attention matrix a = (a_1, ..., a_K) in R^{N x K} (prediction y_hat_k = y_{1:N}^T a_k) is
//   L(a) = 1/(2K) sum_k (a_k - a*_k)^T G (a_k - a*_k) + L*,
// a*_k = e_k for k <= N (copy the label) and G^{-1} Z^T z_k for k > N.
struct RidgeTheory {
  long N = 0;
  double tau = 0.0;
  Matrix gram;            // G (N x N)
  Matrix optimum;         // A* (N x K)
  double min_loss = 0.0;  // L* = 1/(2K) sum_{k>N} (||z_k||^2 - z_k^T Z G^{-1} Z^T z_k + m tau)

  double population_loss(const Matrix& attention) const;  // L(a), exactly
  // The limit predictor y_hat*_k = y_{1:N}^T a*_k for each prompt (labels: K x P or N x P) -> K x P.
  Matrix limit_predictions(const Matrix& labels) const;
};
RidgeTheory ridge_theory(const Dictionary& dictionary, long N, double tau);

// Monte-Carlo estimate of L(a): mean over prompts of 1/(2K) sum_k (y_{1:N}^T a_k - y_k)^2, with its
// standard error.
struct Estimate {
  double mean = 0.0;
  double standard_error = 0.0;
};
Estimate sampled_loss(const Matrix& attention, const Prompts& prompts, long N);

// The best predictor (eq. 24-25): ridge over the basis functions with penalty N tau,
// lambda_tau = (Z Z^T + N tau I_m)^{-1} Z y, y_hat_best,k = lambda_tau^T z_k (all k) -> K x P.
Matrix best_predictions(const Dictionary& dictionary, long N, double tau, const Matrix& labels);

// Fig 3 at one N: gap = (1/K) sum_{k>N} (y_hat*_k - y_hat_best,k)^2 averaged over `prompts` in-domain
// test prompts of each of `dictionaries` dictionary draws; gap_std is the population std of the
// per-dictionary means. ridge_error / best_error = (1/K) sum_{k>N} (prediction - y_k)^2 against the noisy
// labels, averaged likewise.
struct GapPoint {
  long N = 0;
  double gap = 0.0, gap_std = 0.0;
  double ridge_error = 0.0, best_error = 0.0;
};
GapPoint performance_gap(const TaskSpec& spec, long dictionaries, long prompts);

// Linear convergence: a least-squares fit of log(gap) against the step over the logged points with
// gap > floor, from the first point at or below `start_fraction` of the initial gap (the transient) on.
// contraction = exp(slope) is the per-step factor (< 1: linear convergence).
struct RateFit {
  bool ok = false;  // at least 3 usable points
  double slope = 0.0, contraction = 1.0;
  long first_step = 0, last_step = 0, points = 0;
};
RateFit fit_linear_rate(const std::vector<long>& steps, const std::vector<double>& gaps, double start_fraction = 0.5,
                        double floor = 1e-13);

}  // namespace iclab::repr

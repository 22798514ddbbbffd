// Monte-Carlo estimates of the Bayes-optimal reference errors (spec: solvable-model-isotropic §4.6):
//  * dMMSE: the posterior mean under the discrete prior "w uniform over the k pretraining tasks",
//      w_hat = sum_j w_j softmax_j(-||y - X^T w_j||^2 / (2 rho)),
//  * Bayes ridge: the posterior mean under the Gaussian prior w ~ N(0, C_train) (C_train = I by default),
//      w_hat = C X (X^T C X + rho I)^-1 y  (= (X X^T + rho I)^-1 X y for C = I).
// Both are scored on ICL contexts (a fresh task ~ N(0, C_train)) and IDG contexts (a task drawn
// uniformly from the pool), as the authors' theory_runs/dmmse.py does: one pool of k = int(kappa d)
// Gaussian tasks (not sphere-normalised) per estimate, then `samples` independent test contexts.
//
// Reproducibility: the pool comes from StreamId::task_pool and sample s from StreamId::test with
// unit = s, both addressed by (seed, bayes_point_key(setting), repetition). Samples are batched in a
// fixed partition (independent of threads and `block`), every sample's error is stored in its own slot
// and the sums run sequentially afterwards, so the results are bit-identical for any OpenMP thread
// count and any block size.
#pragma once

#include <cstdint>
#include <optional>

#include "iclab/covariances/covariance_spec.hpp"

namespace iclab {

struct BayesSetting {
  long d = 100;
  double alpha = 1.0;  // l = int(alpha d) context examples
  double kappa = 1.0;  // k = int(kappa d) pool tasks (must give k >= 1)
  double rho = 0.01;   // label-noise variance (> 0: both posteriors need it)
  long samples = 1000;
  std::uint64_t seed = 0;
  std::uint64_t repetition = 0;         // a different repetition redraws the pool and the test contexts
  std::optional<TaskCovariance> train;  // task prior N(0, C_train); none = N(0, I_d)
  // Samples per OpenMP work item, rounded up to whole internal batches of 128 samples (bayes.cpp's
  // kBatch: the pool work of a batch is one GEMM). Changes timing only, never results.
  long block = 64;
  // For l >= d the estimators see X only through its Bartlett factor (see bayes.cpp), which is drawn
  // instead of X: half the normals and a triangular instead of a full product. true forces drawing X
  // itself (same law, other numbers; for cross-checks).
  bool direct_covariates = false;

  long context_length() const;  // int(alpha d), truncating like the authors' code
  long num_tasks() const;       // int(kappa d)
  // Throws InvalidArgument naming the offending field.
  void validate() const;
};

// Mean of a per-sample squared error, its population (ddof = 0) per-sample std, and std / sqrt(N).
struct ErrorEstimate {
  double mean = 0.0;
  double std = 0.0;
  double standard_error = 0.0;
};

struct BayesEstimates {
  ErrorEstimate dmmse_icl, dmmse_idg, ridge_icl, ridge_idg;
  // g_task = e_ICL - e_IDG. ICL and IDG share the covariates X and the query x of a sample, so the
  // std/SE here are those of the per-sample difference (smaller than the authors'
  // sqrt(std_ICL^2 + std_IDG^2), which treats the two as independent); the mean is the same.
  ErrorEstimate dmmse_gtask, ridge_gtask;
  long context_length = 0;
  long num_tasks = 0;
};

// The canonical key of a setting ("bayes;d=..;alpha=..;kappa=..;rho=..[;ctrain=SPEC]"); it does not
// depend on samples, so a longer run extends a shorter one with the same draws.
std::uint64_t bayes_point_key(const BayesSetting& setting);

// Runs single-threaded BLAS inside OpenMP threads over fixed sample slots (see above).
BayesEstimates estimate_bayes_baselines(const BayesSetting& setting);

}  // namespace iclab

// The ridge problems that test_solvers (the core's Eigen solvers) and test_tensor_solver (the
// libtorch solver) both solve: one sampler, one agreement check and one list of regimes, so that the
// two suites test the same cases. Header-only, included by those tests alone.
//
// Agreement: every solver solves the same float64 normal equations, so a fit must match the direct
// reference to 1e-8 relative, on Gamma and on both errors: the dense methods differ only by rounding,
// about cond(A) * 1e-16 with cond(A) <= ~1e6 for the systems here (ridge 1e-8 at n/d = O(1)), a
// margin of 100; CG is run at tolerance 1e-13 where it is compared (error <= cond * residual).
#pragma once

#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

#include "iclab/evaluation/test_error.hpp"
#include "iclab/model/ridge_solver.hpp"
#include "iclab/params/model_params.hpp"
#include "iclab/sampling/task_pool.hpp"

namespace iclab::solver_test {

inline constexpr double kRho = 0.1;
inline constexpr double kAlpha = 2.0;

struct Problem {
  FeatureBatch batch;
  TaskMoments icl, idg;
  long ell = 0;
};

// Tasks: isotropic (the pool as drawn) or structured, w_j = G_j diag(spectrum) with a decaying
// spectrum, so that z has a strongly non-isotropic covariance.
inline Problem make_problem(long d, double tau, double kappa, std::uint64_t seed, bool structured = false) {
  ModelParams m;
  m.d = d;
  m.alpha = kAlpha;
  m.tau = tau;
  m.kappa = kappa;
  m.rho = kRho;
  const StreamAddress address{seed, 17, 0, 0};
  Matrix tasks = TaskPool::draw(m.num_tasks(), d, TaskNorm::gaussian, address).tasks();
  if (structured) {
    Vector spectrum(d);
    for (long i = 0; i < d; ++i) spectrum(i) = 2.0 / (1.0 + static_cast<double>(i));
    tasks = tasks * spectrum.asDiagonal();
  }
  Problem problem;
  problem.ell = m.context_length();
  problem.batch = sample_features(tasks, assign_tasks(m, address), problem.ell, kRho, address);
  problem.icl = isotropic_task_moments(d, kRho, TaskNorm::gaussian);
  problem.idg = pool_task_moments(tasks, kRho);
  return problem;
}

inline double relative(const Matrix& a, const Matrix& b) { return (a - b).norm() / b.norm(); }
inline double relative(double a, double b) { return std::abs(a - b) / std::abs(b); }

inline void expect_agrees(const Problem& problem, const RidgeFit& fit, const RidgeFit& reference,
                          const std::string& what) {
  EXPECT_LT(relative(fit.gamma, reference.gamma), 1e-8) << what << " " << fit.report.to_json().dump();
  const double icl = test_error(fit.gamma, problem.icl, problem.ell, kRho);
  const double idg = test_error(fit.gamma, problem.idg, problem.ell, kRho);
  EXPECT_LT(relative(icl, test_error(reference.gamma, problem.icl, problem.ell, kRho)), 1e-8) << what;
  EXPECT_LT(relative(idg, test_error(reference.gamma, problem.idg, problem.ell, kRho)), 1e-8) << what;
  EXPECT_EQ(fit.lambda, reference.lambda);
}

struct Regime {
  std::string label;
  long d;
  double tau;
  double kappa;
  double lambda;
  bool structured;
};

// Every regime: tau < 1, tau ~ 1 with a ridge, tau > 1; finite and infinite kappa; isotropic and
// structured tasks. d (d+1) = p: tau = (d+1)/d gives n = p exactly (the interpolation threshold).
inline std::vector<Regime> solver_regimes() {
  return {
      {"tau<1 kappa=0.5", 8, 0.5, 0.5, 1e-8, false},
      {"tau<1 kappa=inf ridgeless", 10, 0.6, kInfinity, 0.0, false},
      {"tau=1 (n=p) ridge", 8, 9.0 / 8.0, 0.5, 1e-2, false},
      {"tau~1 (n<p) ridge", 10, 1.0, kInfinity, 1e-2, false},
      {"tau>1 kappa=0.5", 8, 3.0, 0.5, 1e-8, false},
      {"tau>1 kappa=inf", 12, 2.0, kInfinity, 1e-6, false},
      {"structured tau<1", 10, 0.5, 1.0, 1e-6, true},
      {"structured tau>1", 10, 3.0, 1.0, 1e-6, true},
  };
}

}  // namespace iclab::solver_test

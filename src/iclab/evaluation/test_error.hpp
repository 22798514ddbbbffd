// Exact test error of a given Gamma (spec: Lu et al. §3, Letey et al. §2.4).
// With x_query independent of (z, w):  E(Gamma) = rho + (1/d) E||w - Gamma z||^2, which only needs
// the first moments of the test-task law through q(w) = ||w||^2/d + rho:
//   E[h|w] = w, E[s|w] = q, E[h h^T|w] = (q/alpha) I + (1 + 1/l) w w^T,
//   E[h s|w] = (1 + 2/l) q w, E[s^2|w] = (1 + 2/l) q^2,   alpha = l/d.
#pragma once

#include "iclab/linalg/dense.hpp"
#include "iclab/params/model_params.hpp"
#include "iclab/random/streams.hpp"

namespace iclab {

// The moments of a test-task distribution that the exact error depends on.
struct TaskMoments {
  Matrix second_moment;    // R = E[w w^T]
  Vector mean;             // E[w]
  Vector q_weighted_mean;  // E[q(w) w]
  double mean_q = 0.0;     // E[q(w)]
  double mean_q2 = 0.0;    // E[q(w)^2]
};

// Fresh tasks as in pretraining: N(0, I) (gaussian) or uniform on ||w|| = sqrt(d) (sphere).
TaskMoments isotropic_task_moments(long d, double rho, TaskNorm norm);
// Uniform over the rows of a task pool (the IDG test); exact for any pool.
TaskMoments pool_task_moments(const Matrix& tasks, double rho);

enum class ErrorForm {
  exact,       // all finite-l terms (default)
  asymptotic,  // drops the O(1/l) terms and uses E[q^2] -> E[q]^2, E[q w] -> E[q] E[w] (Letey et al.'s code)
};

// l is the integer context length of the test contexts.
double test_error(const Matrix& gamma, const TaskMoments& moments, long ell, double rho,
                  ErrorForm form = ErrorForm::exact);

// Monte-Carlo estimate over token-level test contexts, used only to validate test_error.
// Test context i uses task test_tasks.row(i % rows); pass `samples` fresh rows for the ICL test.
struct MonteCarloEstimate {
  double mean = 0.0;
  double standard_error = 0.0;
  long samples = 0;
};
MonteCarloEstimate monte_carlo_test_error(const Matrix& gamma, const Matrix& test_tasks, long ell, double rho,
                                          long samples, StreamAddress address);

}  // namespace iclab

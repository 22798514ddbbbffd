// Drawing tasks t ~ N(0, C) for a general task covariance, and the moments of that law that the exact
// test error (evaluation/test_error.hpp) needs.
#pragma once

#include "iclab/covariances/covariance_spec.hpp"
#include "iclab/evaluation/test_error.hpp"
#include "iclab/linalg/dense.hpp"
#include "iclab/random/streams.hpp"

namespace iclab {

// L with L L^T = C, from the eigendecomposition (L = U diag(sqrt(lambda))), so singular covariances
// (low rank, spikes) work where a Cholesky factor would not. Diagonal C gives a diagonal L.
Matrix covariance_factor(const TaskCovariance& c);

// k tasks t_j = L z_j (rows of the k x d result), z_j ~ N(0, I_d) from StreamId::task_pool unit j: the
// same normals TaskPool::draw uses, so C = I reproduces its Gaussian pool exactly.
Matrix draw_tasks(const TaskCovariance& c, long k, StreamAddress address);

// Moments of t ~ N(0, C) for test_error(): R = C, mean 0, E[q] = <C> + rho,
// E[q^2] = (<C> + rho)^2 + 2 tr(C^2)/d^2 (q = ||t||^2/d + rho), E[q t] = 0.
TaskMoments gaussian_task_moments(const TaskCovariance& c, double rho);

}  // namespace iclab

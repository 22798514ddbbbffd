#include "iclab/covariances/task_draws.hpp"

#include "iclab/sampling/task_pool.hpp"

namespace iclab {

Matrix covariance_factor(const TaskCovariance& c) {
  const Vector root = c.eigenvalues().cwiseSqrt();  // eigenvalues are clipped at 0
  if (c.is_diagonal()) return root.asDiagonal();
  return c.eigenvectors() * root.asDiagonal();
}

Matrix draw_tasks(const TaskCovariance& c, long k, StreamAddress address) {
  // The isotropic pool's normals, by construction: C = I gives exactly TaskPool::draw's tasks.
  const Matrix z = TaskPool::draw(k, c.dim(), TaskNorm::gaussian, address).tasks();
  if (c.is_diagonal()) return z * c.eigenvalues().cwiseSqrt().asDiagonal();
  return z * covariance_factor(c).transpose();
}

TaskMoments gaussian_task_moments(const TaskCovariance& c, double rho) {
  const long d = c.dim();
  const auto dd = static_cast<double>(d);
  TaskMoments m;
  m.second_moment = c.matrix();
  m.mean = Vector::Zero(d);
  m.q_weighted_mean = Vector::Zero(d);
  m.mean_q = c.normalised_trace() + rho;
  // Var(||t||^2) = 2 tr(C^2) for a Gaussian t; tr(C^2) = ||C||_F^2 for symmetric C.
  m.mean_q2 = m.mean_q * m.mean_q + 2.0 * c.matrix().squaredNorm() / (dd * dd);
  return m;
}

}  // namespace iclab

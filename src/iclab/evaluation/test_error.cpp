#include "iclab/evaluation/test_error.hpp"

#include <cmath>

#include "iclab/sampling/context_sampler.hpp"

namespace iclab {

TaskMoments isotropic_task_moments(long d, double rho, TaskNorm norm) {
  const double q = 1.0 + rho;
  TaskMoments m;
  m.second_moment = Matrix::Identity(d, d);
  m.mean = Vector::Zero(d);
  m.q_weighted_mean = Vector::Zero(d);
  m.mean_q = q;
  // ||w||^2/d has variance 2/d for w ~ N(0, I) and none on the sphere.
  m.mean_q2 = q * q + (norm == TaskNorm::gaussian ? 2.0 / static_cast<double>(d) : 0.0);
  return m;
}

TaskMoments pool_task_moments(const Matrix& tasks, double rho) {
  const double k = static_cast<double>(tasks.rows());
  const double d = static_cast<double>(tasks.cols());
  const Vector q = (tasks.rowwise().squaredNorm().array() / d + rho).matrix();
  TaskMoments m;
  m.second_moment = tasks.transpose() * tasks / k;
  m.mean = tasks.colwise().mean().transpose();
  m.q_weighted_mean = tasks.transpose() * q / k;
  m.mean_q = q.mean();
  m.mean_q2 = q.squaredNorm() / k;
  return m;
}

double test_error(const Matrix& gamma, const TaskMoments& m, long ell, double rho, ErrorForm form) {
  const long d = static_cast<long>(gamma.rows());
  const double dd = static_cast<double>(d);
  const double alpha = static_cast<double>(ell) / dd;
  const bool exact = form == ErrorForm::exact;
  const double inv_l = exact ? 1.0 / static_cast<double>(ell) : 0.0;
  const Vector qw = exact ? m.q_weighted_mean : Vector(m.mean_q * m.mean);
  const double q2 = exact ? m.mean_q2 : m.mean_q * m.mean_q;

  const auto gh = gamma.leftCols(d);  // acts on h
  const auto gs = gamma.col(d);       // acts on s
  const Matrix gh_r = gh * m.second_moment;
  // -(2/d) tr(Gamma E[z w^T])
  const double cross = gh_r.trace() + gs.dot(qw);
  // (1/d) tr(Gamma E[z z^T] Gamma^T)
  const double quad = (m.mean_q / alpha) * gh.squaredNorm() + (1.0 + inv_l) * gh_r.cwiseProduct(gh).sum() +
                      2.0 * (1.0 + 2.0 * inv_l) * gs.dot(gh * qw) + (1.0 + 2.0 * inv_l) * q2 * gs.squaredNorm();
  return rho + m.second_moment.trace() / dd + (quad - 2.0 * cross) / dd;
}

MonteCarloEstimate monte_carlo_test_error(const Matrix& gamma, const Matrix& test_tasks, long ell, double rho,
                                          long samples, StreamAddress address) {
  const long rows = static_cast<long>(test_tasks.rows());
  std::vector<long> task_of(static_cast<std::size_t>(samples));
  for (long i = 0; i < samples; ++i) task_of[static_cast<std::size_t>(i)] = i % rows;
  // Test contexts live far from pretraining units in the same counter space.
  const FeatureBatch batch = sample_features_direct(test_tasks, task_of, ell, rho, address, std::uint64_t{1} << 62);
  const Vector pred = ((batch.x_query * gamma).cwiseProduct(batch.z)).rowwise().sum();
  const Vector sq = (batch.y_query - pred).array().square().matrix();
  MonteCarloEstimate est;
  est.samples = samples;
  est.mean = sq.mean();
  const double var = (sq.array() - est.mean).square().sum() / static_cast<double>(std::max<long>(samples - 1, 1));
  est.standard_error = std::sqrt(var / static_cast<double>(samples));
  return est;
}

}  // namespace iclab

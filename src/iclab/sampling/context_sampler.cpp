#include "iclab/sampling/context_sampler.hpp"

#include <cmath>

#include "iclab/cancel.hpp"

namespace iclab {
namespace {

// Orthogonal reflection R with R e_1 = w/||w||: u = (w + s||w|| e_1)/||.||, R x = -s (x - 2 (u.x) u).
class Householder {
 public:
  explicit Householder(const Eigen::Ref<const Vector>& w) : u_(w) {
    const double norm = w.norm();
    sign_ = w(0) >= 0.0 ? 1.0 : -1.0;
    u_(0) += sign_ * norm;
    u_ /= u_.norm();
  }
  void apply(Eigen::Ref<Vector> x) const { x = -sign_ * (x - 2.0 * u_.dot(x) * u_); }

 private:
  Vector u_;
  double sign_ = 1.0;
};

StreamAddress unit_address(StreamAddress address, std::uint64_t unit) {
  address.unit = unit;
  return address;
}

}  // namespace

FeatureBatch sample_features(const Matrix& tasks, const std::vector<long>& task_of, long ell, double rho,
                             StreamAddress address, std::uint64_t unit_offset, const std::stop_token& stop) {
  constexpr long kPollBlock = 256;  // contexts between two polls of `stop` (about 0.1 ms of work at d = 100)
  const long n = static_cast<long>(task_of.size());
  const long d = static_cast<long>(tasks.cols());
  const double sqrt_d = std::sqrt(static_cast<double>(d));
  const double dd = static_cast<double>(d);
  const double l = static_cast<double>(ell);
  const double noise_sd = std::sqrt(rho);
  FeatureBatch batch{Matrix(n, d), Matrix(n, d + 1), Vector(n)};
#pragma omp parallel
  {
    Vector v(d), g(d);
    bool stopped = false;  // this thread's: an exception must not leave the OpenMP region
#pragma omp for schedule(static)
    for (long mu = 0; mu < n; ++mu) {
      if (mu % kPollBlock == 0) stopped = stopped || stop.stop_requested();
      if (stopped) continue;
      const auto unit = unit_offset + static_cast<std::uint64_t>(mu);
      RandomStream cov(StreamId::context, unit_address(address, unit));
      RandomStream noise(StreamId::noise, unit_address(address, unit));
      const auto w = tasks.row(task_of[static_cast<std::size_t>(mu)]).transpose();
      const double theta_w = w.norm() / sqrt_d;
      const double theta_e = noise_sd * std::sqrt(noise.chi_square(l)) / sqrt_d;  // ||eps|| / sqrt(d)
      const double a = cov.normal();                      // component of e_1-covariates along eps
      const double theta_q2 = cov.chi_square(l - 1.0) / dd;  // rest of ||(sqrt(d) x_i)_1||^2, / d
      const double lead = theta_e + theta_w * a / sqrt_d;
      const double sum_y2_over_d = lead * lead + theta_w * theta_w * theta_q2;  // sum_i y_i^2 / d
      // v = (sum_i y_i x_i) / sqrt(d) in the frame where w is along e_1.
      v(0) = theta_e * a / sqrt_d + theta_w * a * a / dd + theta_w * theta_q2;
      const double v_sd = std::sqrt(sum_y2_over_d / dd);
      for (long i = 1; i < d; ++i) v(i) = v_sd * cov.normal();
      for (long i = 0; i < d; ++i) g(i) = cov.normal();  // sqrt(d) x_query in that frame
      const double y = theta_w * g(0) + noise_sd * noise.normal();
      if (theta_w > 0.0) {
        const Householder reflect(w);
        reflect.apply(v);
        reflect.apply(g);
      }
      batch.x_query.row(mu) = g.transpose() / sqrt_d;
      batch.z.row(mu).head(d) = (dd / l) * sqrt_d * v.transpose();
      batch.z(mu, d) = dd * sum_y2_over_d / l;
      batch.y_query(mu) = y;
    }
  }
  throw_if_stopped(stop);
  return batch;
}

TokenContext sample_tokens(const Eigen::Ref<const Vector>& task, long ell, double rho, RandomStream& covariates,
                           RandomStream& noise, Link link) {
  TokenContext context = draw_context(static_cast<long>(task.size()), ell, covariates, noise);
  label_context(context, task, rho, link, context.y);
  return context;
}

TokenContext draw_context(long d, long ell, RandomStream& covariates, RandomStream& noise) {
  const double scale = 1.0 / std::sqrt(static_cast<double>(d));
  TokenContext context{Matrix(ell + 1, d), Vector(ell + 1)};
  // The two streams are separate, so drawing all of x before the noise gives each the same numbers.
  for (long i = 0; i <= ell; ++i)
    for (long j = 0; j < d; ++j) context.x(i, j) = scale * covariates.normal();
  for (long i = 0; i <= ell; ++i) context.y(i) = noise.normal();
  return context;
}

void label_context(const TokenContext& draws, const Eigen::Ref<const Vector>& task, double rho, Link link, Vector& y) {
  const double noise_sd = std::sqrt(rho);
  const long tokens = static_cast<long>(draws.y.size());
  y.resize(tokens);
  for (long i = 0; i < tokens; ++i) y(i) = apply_link(link, draws.x.row(i).dot(task)) + noise_sd * draws.y(i);
}

void features_from_tokens(const TokenContext& context, Eigen::Ref<Vector> x_query, Eigen::Ref<Vector> z,
                          double& y_query) {
  const long ell = static_cast<long>(context.y.size()) - 1;
  const long d = static_cast<long>(context.x.cols());
  const auto xs = context.x.topRows(ell);
  const auto ys = context.y.head(ell);
  x_query = context.x.row(ell).transpose();
  z.head(d) = (static_cast<double>(d) / static_cast<double>(ell)) * (xs.transpose() * ys);
  z(d) = ys.squaredNorm() / static_cast<double>(ell);
  y_query = context.y(ell);
}

FeatureBatch sample_features_direct(const Matrix& tasks, const std::vector<long>& task_of, long ell, double rho,
                                    StreamAddress address, std::uint64_t unit_offset) {
  const long n = static_cast<long>(task_of.size());
  const long d = static_cast<long>(tasks.cols());
  FeatureBatch batch{Matrix(n, d), Matrix(n, d + 1), Vector(n)};
#pragma omp parallel
  {
    Vector xq(d), z(d + 1);
#pragma omp for schedule(static)
    for (long mu = 0; mu < n; ++mu) {
      const auto unit = unit_offset + static_cast<std::uint64_t>(mu);
      RandomStream cov(StreamId::context, unit_address(address, unit));
      RandomStream noise(StreamId::noise, unit_address(address, unit));
      const Vector w = tasks.row(task_of[static_cast<std::size_t>(mu)]).transpose();
      const TokenContext context = sample_tokens(w, ell, rho, cov, noise);
      double y = 0.0;
      features_from_tokens(context, xq, z, y);
      batch.x_query.row(mu) = xq.transpose();
      batch.z.row(mu) = z.transpose();
      batch.y_query(mu) = y;
    }
  }
  return batch;
}

}  // namespace iclab

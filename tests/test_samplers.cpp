// The exact O(d) sampler (rotation invariance, chi-square norms) against the direct token-level
// construction and the analytic conditional moments (spec: Lu et al. §2.4, §3).
#include <cmath>

#include <gtest/gtest.h>

#include "iclab/evaluation/test_error.hpp"
#include "iclab/sampling/context_sampler.hpp"
#include "iclab/sampling/task_pool.hpp"

using namespace iclab;

namespace {

struct Stat {
  double mean = 0, se = 0;
};
Stat stat_of(const Vector& v) {
  const double n = static_cast<double>(v.size());
  Stat s;
  s.mean = v.mean();
  s.se = std::sqrt((v.array() - s.mean).square().sum() / (n - 1) / n);
  return s;
}

// Statistics whose laws must agree between the two samplers (one task, many contexts).
std::vector<Vector> statistics(const FeatureBatch& b, const Vector& w, const Matrix& gamma) {
  const long d = b.dim();
  const Vector pred = ((b.x_query * gamma).cwiseProduct(b.z)).rowwise().sum();
  const Matrix h = b.z.leftCols(d);
  return {
      b.z.col(d),                                                      // s
      b.z.col(d).array().square().matrix(),                            // s^2
      h * w / static_cast<double>(d),                                  // <h, w>/d
      h.rowwise().squaredNorm() / static_cast<double>(d),              // ||h||^2/d
      (h * w).cwiseProduct(b.z.col(d)) / static_cast<double>(d),       // s <h, w>/d
      b.y_query.cwiseProduct(b.x_query * w),                           // y_q <x_q, w>
      (b.y_query - pred).array().square().matrix(),                    // test loss of a fixed Gamma
      b.x_query.rowwise().squaredNorm(),                               // ||x_q||^2
  };
}

}  // namespace

TEST(Samplers, FastAndDirectAgreeInLaw) {
  const long d = 8, ell = 12, n = 60000;
  const double rho = 0.25;
  const Matrix tasks = TaskPool::draw(1, d, TaskNorm::gaussian, {1, 0, 0, 0}).tasks();
  const std::vector<long> task_of(n, 0);
  const FeatureBatch fast = sample_features(tasks, task_of, ell, rho, {2, 7, 0, 0});
  const FeatureBatch direct = sample_features_direct(tasks, task_of, ell, rho, {3, 7, 0, 0});
  Matrix gamma = Matrix::Identity(d, d + 1) * 0.8;
  gamma(0, d) = 0.3;
  const Vector w = tasks.row(0).transpose();
  const auto a = statistics(fast, w, gamma);
  const auto b = statistics(direct, w, gamma);
  for (std::size_t i = 0; i < a.size(); ++i) {
    const Stat sa = stat_of(a[i]), sb = stat_of(b[i]);
    // Two independent samples: |difference| < 5 combined standard errors unless the laws differ.
    EXPECT_LT(std::fabs(sa.mean - sb.mean), 5 * std::hypot(sa.se, sb.se))
        << "statistic " << i << ": fast " << sa.mean << " direct " << sb.mean;
  }
}

TEST(Samplers, FastSamplerHasTheExactConditionalMoments) {
  // E[h|w] = w, E[s|w] = q, E[s^2|w] = (1 + 2/l) q^2 with q = ||w||^2/d + rho, E[y_q^2] = ||w||^2/d + rho.
  const long d = 6, ell = 5, n = 200000;
  const double rho = 0.4;
  const Matrix tasks = TaskPool::draw(1, d, TaskNorm::gaussian, {4, 0, 0, 0}).tasks();
  const FeatureBatch b = sample_features(tasks, std::vector<long>(n, 0), ell, rho, {5, 0, 0, 0});
  const Vector w = tasks.row(0).transpose();
  const double q = w.squaredNorm() / d + rho;
  for (long i = 0; i < d; ++i) {
    const Stat s = stat_of(b.z.col(i));
    EXPECT_NEAR(s.mean, w(i), 5 * s.se) << "h_" << i;
  }
  const Stat s1 = stat_of(b.z.col(d));
  EXPECT_NEAR(s1.mean, q, 5 * s1.se);
  const Stat s2 = stat_of(b.z.col(d).array().square().matrix());
  EXPECT_NEAR(s2.mean, (1 + 2.0 / ell) * q * q, 5 * s2.se);
  const Stat y2 = stat_of(b.y_query.array().square().matrix());
  EXPECT_NEAR(y2.mean, q, 5 * y2.se);
}

TEST(Samplers, SameSeedSameFeaturesWhateverTheOrder) {
  const long d = 5, ell = 50;
  const Matrix tasks = TaskPool::draw(3, d, TaskNorm::sphere, {6, 0, 0, 0}).tasks();
  for (long i = 0; i < tasks.rows(); ++i) EXPECT_NEAR(tasks.row(i).norm(), std::sqrt(5.0), 1e-12);
  const std::vector<long> task_of = {0, 1, 2, 1};
  const FeatureBatch all = sample_features(tasks, task_of, ell, 0.1, {7, 1, 0, 0});
  // Context 2 sampled alone (as unit 2) is identical to row 2 of the batch.
  const FeatureBatch one = sample_features(tasks, {2}, ell, 0.1, {7, 1, 0, 0}, 2);
  EXPECT_EQ(one.x_query.row(0), all.x_query.row(2));
  EXPECT_EQ(one.z.row(0), all.z.row(2));
  EXPECT_EQ(one.y_query(0), all.y_query(2));
}

TEST(Samplers, TokenContextFeatures) {
  const long d = 4, ell = 3;
  Vector w(d);
  w << 1, -2, 0.5, 3;
  RandomStream cov(StreamId::context, {8, 0, 0, 0}), noise(StreamId::noise, {8, 0, 0, 0});
  const TokenContext c = sample_tokens(w, ell, 0.0, cov, noise);
  ASSERT_EQ(c.x.rows(), ell + 1);
  for (long i = 0; i <= ell; ++i) EXPECT_NEAR(c.y(i), c.x.row(i).dot(w), 1e-12);  // rho = 0
  Vector xq(d), z(d + 1);
  double y = 0;
  features_from_tokens(c, xq, z, y);
  Vector h = Vector::Zero(d);
  double s = 0;
  for (long i = 0; i < ell; ++i) {
    h += c.y(i) * c.x.row(i).transpose();
    s += c.y(i) * c.y(i);
  }
  EXPECT_TRUE(z.head(d).isApprox(h * d / ell, 1e-12));
  EXPECT_NEAR(z(d), s / ell, 1e-12);
  EXPECT_EQ(xq, c.x.row(ell).transpose());
  EXPECT_EQ(y, c.y(ell));
}

TEST(TaskAssignment, RandomBalancedAndInfinite) {
  ModelParams m;
  m.d = 10;
  m.alpha = 1;
  m.tau = 2;
  m.kappa = 0.5;
  m.rho = 0.1;
  const auto random = assign_tasks(m, {1, 2, 0, 0});
  ASSERT_EQ(static_cast<long>(random.size()), m.num_contexts());
  std::vector<int> counts(5, 0);
  for (long t : random) {
    ASSERT_GE(t, 0);
    ASSERT_LT(t, 5);
    ++counts[static_cast<std::size_t>(t)];
  }
  for (int c : counts) EXPECT_GT(c, 0);
  m.assignment = Assignment::balanced;
  const auto balanced = assign_tasks(m, {1, 2, 0, 0});
  std::vector<int> bc(5, 0);
  for (long t : balanced) ++bc[static_cast<std::size_t>(t)];
  for (int c : bc) EXPECT_EQ(c, 40);  // round(200 / 5)
  m.kappa = kInfinity;
  const auto fresh = assign_tasks(m, {1, 2, 0, 0});
  for (std::size_t i = 0; i < fresh.size(); ++i) EXPECT_EQ(fresh[i], static_cast<long>(i));
}

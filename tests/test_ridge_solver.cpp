// The direct reference solver of the Gamma* ridge problem (spec: Lu et al. §2.3).
#include <cmath>

#include <gtest/gtest.h>

#include "iclab/model/ridge_solver.hpp"
#include "iclab/sampling/task_pool.hpp"

using namespace iclab;

namespace {

FeatureBatch make_batch(long d, double tau, double kappa, std::uint64_t seed) {
  ModelParams m;
  m.d = d;
  m.alpha = 2;
  m.tau = tau;
  m.kappa = kappa;
  m.rho = 0.1;
  const StreamAddress address{seed, 1, 0, 0};
  const TaskPool pool = TaskPool::draw(m.num_tasks(), d, m.task_norm, address);
  return sample_features(pool.tasks(), assign_tasks(m, address), m.context_length(), m.rho, address);
}

// Dense reference: materialise the n x p design and solve the normal equations with Eigen's LDLT.
Matrix dense_ridge(const FeatureBatch& b, double lambda) {
  const long n = b.size(), d = b.dim(), p = d * (d + 1);
  Matrix h(n, p);
  for (long mu = 0; mu < n; ++mu)
    for (long a = 0; a < d; ++a)
      for (long c = 0; c <= d; ++c) h(mu, a * (d + 1) + c) = b.x_query(mu, a) * b.z(mu, c);
  Matrix gram = h.transpose() * h;
  gram.diagonal().array() += static_cast<double>(n) / static_cast<double>(d) * lambda;
  const Vector g = gram.ldlt().solve(h.transpose() * b.y_query);
  return unvec_row_major(g, d);
}

}  // namespace

TEST(RidgeSolver, VecIsRowMajor) {
  Matrix g(2, 3);
  g << 1, 2, 3, 4, 5, 6;
  const Vector v = vec_row_major(g);
  EXPECT_EQ(v(1), 2);
  EXPECT_EQ(v(3), 4);
  EXPECT_EQ(unvec_row_major(v, 2), g);
}

TEST(RidgeSolver, PrimalAndDualAgreeWithDenseNormalEquations) {
  const long d = 6;  // p = 42
  for (double tau : {0.5, 2.0}) {  // n = 18 (dual by default) and 72 (primal by default)
    const FeatureBatch b = make_batch(d, tau, 0.5, 1);
    for (double lambda : {1e-3, 0.5}) {
      const Matrix expected = dense_ridge(b, lambda);
      const RidgeFit primal = DirectRidgeSolver(DirectRidgeSolver::System::primal).fit(b, lambda);
      const RidgeFit dual = DirectRidgeSolver(DirectRidgeSolver::System::dual).fit(b, lambda);
      EXPECT_EQ(primal.report.system, "primal");
      EXPECT_EQ(dual.report.system, "dual");
      EXPECT_LT((primal.gamma - expected).norm(), 1e-8 * expected.norm()) << tau << " " << lambda;
      EXPECT_LT((dual.gamma - expected).norm(), 1e-8 * expected.norm()) << tau << " " << lambda;
      EXPECT_LT(primal.report.relative_residual, 1e-10);
      EXPECT_LT(dual.report.relative_residual, 1e-10);
    }
  }
}

TEST(RidgeSolver, AutomaticSystemChoiceFollowsNAndP) {
  const long d = 6;
  EXPECT_EQ(DirectRidgeSolver().fit(make_batch(d, 0.5, 0.5, 2), 0.1).report.system, "dual");
  EXPECT_EQ(DirectRidgeSolver().fit(make_batch(d, 2.0, 0.5, 2), 0.1).report.system, "primal");
}

TEST(RidgeSolver, RidgelessBelowThresholdInterpolates) {
  // tau < 1, lambda = 0: the minimum-norm interpolator fits every pretraining label.
  const FeatureBatch b = make_batch(8, 0.5, kInfinity, 3);
  const RidgeFit fit = DirectRidgeSolver().fit(b, 0.0);
  const Vector pred = ((b.x_query * fit.gamma).cwiseProduct(b.z)).rowwise().sum();
  EXPECT_LT((pred - b.y_query).norm(), 1e-8 * b.y_query.norm());
  // and it lies in the row space of the design (minimum norm): Gamma = X^T diag(c) Z
  const RidgeFit tiny = DirectRidgeSolver(DirectRidgeSolver::System::primal).fit(b, 1e-10);
  EXPECT_LT((tiny.gamma - fit.gamma).norm(), 1e-4 * fit.gamma.norm());
}

TEST(RidgeSolver, LambdaPathEqualsIndividualFits) {
  const FeatureBatch b = make_batch(6, 2.0, 1.0, 4);
  const std::vector<double> lambdas = {1.0, 1e-2, 1e-5};
  const DirectRidgeSolver solver;
  const auto path = solver.fit_path(b, lambdas);
  ASSERT_EQ(path.size(), 3u);
  for (std::size_t i = 0; i < lambdas.size(); ++i) {
    const RidgeFit single = solver.fit(b, lambdas[i]);
    EXPECT_EQ(path[i].lambda, lambdas[i]);
    EXPECT_LT((path[i].gamma - single.gamma).norm(), 1e-10 * single.gamma.norm());
  }
}

TEST(SymmetricSolve, FallsBackToBunchKaufmanForIndefiniteSystems) {
  Matrix a(2, 2);
  a << 1, 2, 2, 1;  // indefinite: Cholesky fails
  Matrix b(2, 1);
  b << 3, 3;
  Matrix a_copy = a;
  EXPECT_EQ(solve_symmetric(a_copy, b), SymmetricSolve::bunch_kaufman);
  EXPECT_NEAR(b(0), 1.0, 1e-12);
  EXPECT_NEAR(b(1), 1.0, 1e-12);
  Matrix spd(2, 2);
  spd << 2, 1, 1, 2;
  Matrix rhs(2, 1);
  rhs << 3, 3;
  EXPECT_EQ(solve_symmetric(spd, rhs), SymmetricSolve::cholesky);
  EXPECT_NEAR(rhs(0), 1.0, 1e-12);
}

TEST(RidgeSolver, UnknownSolverNameIsInvalidArgument) {
  EXPECT_THROW(make_ridge_solver("magic"), InvalidArgument);
}

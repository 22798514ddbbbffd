// Cancellation (iclab/cancel.hpp): a stop requested through the caller's std::stop_token is noticed at
// the next poll inside the sampler, the solvers and the simulation, and an unrequested token changes no
// bit. Counted in polls and calls, never timed.
#include <gtest/gtest.h>

#include <stop_token>

#include "iclab/cancel.hpp"
#include "iclab/experiments/simulate.hpp"
#include "iclab/model/cg_solver.hpp"
#include "iclab/model/solver_kernels.hpp"
#include "iclab/sampling/task_pool.hpp"

using namespace iclab;

namespace {

ModelParams point(long d, double alpha, double tau) {
  ModelParams m;
  m.d = d;
  m.alpha = alpha;
  m.tau = tau;
  m.kappa = 1.0;
  m.rho = 0.1;
  return m;
}

// Delegates to the CG solver, requesting the stop as its fit starts: the stop arrives inside a
// repetition, after the draw, so only the solver's own polls can notice it before the fit ends.
class StoppingSolver final : public RidgeSolver {
 public:
  explicit StoppingSolver(std::stop_source& source) : source_(source) {}
  std::string name() const override { return "stopping"; }
  std::vector<RidgeFit> fit_path(const FeatureBatch& batch, std::span<const double> lambdas) const override {
    return fit_path_cancellable(batch, lambdas, {});
  }
  std::vector<RidgeFit> fit_path_cancellable(const FeatureBatch& batch, std::span<const double> lambdas,
                                             const std::stop_token& stop) const override {
    ++fits;
    source_.request_stop();
    auto out = inner_.fit_path_cancellable(batch, lambdas, stop);
    ++completed;
    return out;
  }
  double estimate_bytes(long n, long d) const override { return inner_.estimate_bytes(n, d); }
  Scheduling scheduling() const override { return Scheduling::serial; }  // one repetition after another
  mutable int fits = 0, completed = 0;

 private:
  std::stop_source& source_;
  ConjugateGradientRidgeSolver inner_;
};

}  // namespace

TEST(Cancel, ConjugateGradientStopsAtTheNextIteration) {
  // A 40 x 40 SPD system that needs many iterations; the stop is requested during the 3rd operator
  // application (iteration 2), so the poll before iteration 3 must throw: exactly 3 applications.
  const long m = 40;
  Matrix a = Matrix::Zero(m, m);
  for (long i = 0; i < m; ++i) a(i, i) = 1.0 + static_cast<double>(i * i);
  const Matrix b = Matrix::Ones(m, 1);
  std::stop_source source;
  ridge_detail::CgSettings settings;
  settings.stop = source.get_token();
  int applications = 0;
  const auto apply = [&](const Matrix& x) {
    if (++applications == 3) source.request_stop();
    return Matrix(a * x);
  };
  const auto identity = [](const Matrix& r) { return r; };
  EXPECT_THROW(ridge_detail::conjugate_gradient(apply, identity, b, Matrix::Zero(m, 1), settings), Cancelled);
  EXPECT_EQ(applications, 3);
}

TEST(Cancel, SamplerThrowsAndAnUnrequestedTokenChangesNoBit) {
  const ModelParams m = point(10, 2.0, 1.0);
  const StreamAddress address{3, 1, 0, 0};
  const TaskPool pool = TaskPool::draw(m.num_tasks(), m.d, m.task_norm, address);
  const std::vector<long> task_of = assign_tasks(m, address);
  std::stop_source source;
  const FeatureBatch plain = sample_features(pool.tasks(), task_of, m.context_length(), m.rho, address);
  const FeatureBatch polled =
      sample_features(pool.tasks(), task_of, m.context_length(), m.rho, address, 0, source.get_token());
  EXPECT_TRUE(plain.x_query == polled.x_query && plain.z == polled.z && plain.y_query == polled.y_query);
  source.request_stop();
  EXPECT_THROW(sample_features(pool.tasks(), task_of, m.context_length(), m.rho, address, 0, source.get_token()),
               Cancelled);
}

TEST(Cancel, SimulationStopsInsideTheFirstRepetition) {
  // n = tau d^2 = 800 contexts, p = 420: the primal CG needs many iterations at lambda = 1e-4; the
  // stop requested as the first fit starts is noticed at CG's first poll: that fit never completes
  // and no second repetition starts.
  const ModelParams m = point(20, 2.0, 2.0);
  const std::vector<double> lambdas = {1e-4};
  std::stop_source source;
  const StoppingSolver solver(source);
  EXPECT_THROW(simulate_point(m, {}, lambdas, 4, 7, solver, {}, source.get_token()), Cancelled);
  EXPECT_EQ(solver.fits, 1);
  EXPECT_EQ(solver.completed, 0);
}

TEST(Cancel, AnUnrequestedTokenChangesNoBitOfASimulation) {
  const ModelParams m = point(12, 2.0, 1.5);
  const std::vector<double> lambdas = {1e-3, 1e-1};
  const ConjugateGradientRidgeSolver solver;
  std::stop_source source;
  const auto plain = simulate_point(m, {}, lambdas, 3, 11, solver);
  const auto polled = simulate_point(m, {}, lambdas, 3, 11, solver, {}, source.get_token());
  ASSERT_EQ(plain.size(), polled.size());
  for (std::size_t i = 0; i < plain.size(); ++i) {
    EXPECT_EQ(plain[i].icl_mean, polled[i].icl_mean);  // exact: polling never touches the arithmetic
    EXPECT_EQ(plain[i].idg_mean, polled[i].idg_mean);
  }
}

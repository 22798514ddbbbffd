// Simulations of the reduced model: reproducibility and agreement with the asymptotic theory.
#include <cmath>

#include <gtest/gtest.h>
#include <omp.h>

#include "iclab/experiments/simulate.hpp"
#include "iclab/io/table.hpp"
#include "iclab/theory/isotropic.hpp"

using namespace iclab;

namespace {

ModelParams point(long d, double alpha, double tau, double kappa, double rho, TaskNorm norm = TaskNorm::gaussian,
                  Assignment assignment = Assignment::random) {
  ModelParams m;
  m.d = d;
  m.alpha = alpha;
  m.tau = tau;
  m.kappa = kappa;
  m.rho = rho;
  m.task_norm = norm;
  m.assignment = assignment;
  return m;
}

}  // namespace

TEST(Simulation, BitIdenticalForTheSameSeedWhateverTheThreads) {
  const ModelParams m = point(12, 3, 1.5, 0.5, 0.1);
  const std::vector<double> lambdas = {1e-3};
  const DirectRidgeSolver solver;
  // repeats > 1 runs repetitions in parallel with single-threaded BLAS; repeats = 1 runs one
  // repetition with threaded BLAS and samplers. Repetition 1 must not care which.
  const auto parallel = simulate_point(m, {}, lambdas, 3, 42, solver);
  omp_set_num_threads(1);
  set_blas_threads(1);
  const auto serial = simulate_repetition(m, {}, lambdas, 42, 1, solver);
  omp_set_num_threads(2);
  set_blas_threads(2);
  const auto threaded = simulate_repetition(m, {}, lambdas, 42, 1, solver);
  EXPECT_EQ(parallel[0].repetitions[1].icl_errors, serial[0].icl_errors);
  EXPECT_EQ(parallel[0].repetitions[1].idg_error, serial[0].idg_error);
  EXPECT_EQ(threaded[0].icl_errors, serial[0].icl_errors);
  EXPECT_EQ(threaded[0].idg_error, serial[0].idg_error);
  // a different seed gives different numbers
  EXPECT_NE(simulate_repetition(m, {}, lambdas, 43, 1, solver)[0].icl_errors[0], serial[0].icl_errors[0]);
}

TEST(Simulation, LambdaListReusesTheDraw) {
  const ModelParams m = point(10, 2, 0.5, 1.0, 0.1);
  const DirectRidgeSolver solver;
  const std::vector<double> both = {1e-4, 0.5};
  const std::vector<double> second = {0.5};
  const auto path = simulate_repetition(m, {}, both, 7, 0, solver);
  const auto alone = simulate_repetition(m, {}, second, 7, 0, solver);
  EXPECT_NEAR(path[1].icl_errors[0], alone[0].icl_errors[0], 1e-12);
  EXPECT_NE(path[0].icl_errors[0], path[1].icl_errors[0]);
}

TEST(Simulation, PopulationStd) {
  const auto [mean, sd] = mean_and_population_std({1.0, 2.0, 3.0, 4.0});
  EXPECT_DOUBLE_EQ(mean, 2.5);
  EXPECT_DOUBLE_EQ(sd, std::sqrt(1.25));  // ddof = 0
}

// Simulation at d = 40 against the d -> inf theory. The spec's finite-size analysis (Lu et al. §6)
// finds simulations above the theory by O(1/d): within ~5% for tau <= 0.5 or kappa = inf, but up
// to ~10-15% at d = 40 for kappa < 1 with tau > 1 or alpha = 1 (the spec measures 1.343 vs 1.261 at
// alpha = 1, tau = 0.5, d = 40). The tolerance is that
// bias bound plus 3 standard errors of the mean; the simulation must also not sit below the theory
// by more than 3 standard errors (the finite-size bias is positive).
struct TheoryCase {
  ModelParams model;
  double lambda;
  double bias;  // relative finite-size allowance
  bool check_idg;
};


void PrintTo(const TheoryCase& c, std::ostream* os) {
  *os << c.model.to_json().dump() << " lambda=" << c.lambda;
}

class SimulationVsTheory : public ::testing::TestWithParam<TheoryCase> {};

TEST_P(SimulationVsTheory, WithinFiniteSizeTolerance) {
  const TheoryCase& c = GetParam();
  const long repeats = 6;
  const double lambdas[] = {c.lambda};
  const auto r = simulate_point(c.model, {}, lambdas, repeats, 2024, DirectRidgeSolver())[0];
  const theory::IsotropicPoint p{c.model.alpha, c.model.tau, c.model.kappa, c.model.rho, c.lambda};
  const double icl = theory::icl_error(p);
  const double se_icl = r.icl_std[0] / std::sqrt(repeats - 1.0);
  EXPECT_LT(std::fabs(r.icl_mean[0] - icl), c.bias * icl + 3 * se_icl) << "ICL sim " << r.icl_mean[0] << " theory " << icl;
  EXPECT_GT(r.icl_mean[0], icl - 3 * se_icl);
  if (c.check_idg) {
    const double idg = theory::idg_error(p);
    const double se_idg = r.idg_std / std::sqrt(repeats - 1.0);
    EXPECT_LT(std::fabs(r.idg_mean - idg), c.bias * idg + 3 * se_idg) << "IDG sim " << r.idg_mean << " theory " << idg;
    EXPECT_GT(r.idg_mean, idg - 3 * se_idg);
  }
}

INSTANTIATE_TEST_SUITE_P(
    D40, SimulationVsTheory,
    ::testing::Values(
        // the authors' conventions (sphere tasks, balanced assignment), Fig 1 points
        TheoryCase{point(40, 10, 0.5, 0.5, 0.01, TaskNorm::sphere, Assignment::balanced), 1e-8, 0.05, true},
        TheoryCase{point(40, 10, 2, 0.5, 0.01, TaskNorm::sphere, Assignment::balanced), 1e-8, 0.15, true},
        TheoryCase{point(40, 1, 0.5, 0.5, 0.01, TaskNorm::sphere, Assignment::balanced), 1e-8, 0.10, true},
        // the papers' model (Gaussian tasks, random assignment)
        TheoryCase{point(40, 10, 0.5, kInfinity, 0.01), 1e-8, 0.05, true},
        TheoryCase{point(40, 10, 4, 2, 0.25), 1e-8, 0.06, true},
        // ridge (the IDG formula is iclab's, docs/ridge-idg.md)
        TheoryCase{point(40, 10, 2, kInfinity, 0.01), 0.1, 0.06, true},
        TheoryCase{point(40, 10, 1, kInfinity, 0.01), 1.0, 0.05, true},
        TheoryCase{point(40, 10, 1, 2, 0.01), 0.1, 0.06, true},
        TheoryCase{point(40, 10, 2, 0.5, 0.01, TaskNorm::sphere, Assignment::balanced), 0.1, 0.06, true}),
    [](const ::testing::TestParamInfo<TheoryCase>& param_info) {
      // e.g. alpha10_tau0p5_kappainf_lambda1em08: only [A-Za-z0-9_] is allowed in gtest names
      auto text = [](double v) {
        std::string label = format_number(v);
        for (char& ch : label) ch = ch == '.' ? 'p' : ch == '-' ? 'm' : ch == '+' ? 'p' : ch;
        return label;
      };
      const ModelParams& m = param_info.param.model;
      return "alpha" + text(m.alpha) + "_tau" + text(m.tau) + "_kappa" + text(m.kappa) + "_lambda" +
             text(param_info.param.lambda) + (m.task_norm == TaskNorm::sphere ? "_sphere" : "");
    });

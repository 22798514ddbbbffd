// The fast Gamma* solvers (cg, dual, auto, and the direct solver's lambda path) against the
// direct reference, in every regime: tau < 1, tau ~ 1 with a ridge, tau > 1; finite and
// infinite kappa; an isotropic and a structured task distribution.
#include <gtest/gtest.h>
#include <omp.h>

#include <cmath>
#include <string>
#include <vector>

#include "iclab/evaluation/test_error.hpp"
#include "iclab/model/auto_solver.hpp"
#include "iclab/model/cg_solver.hpp"
#include "iclab/model/dual_solver.hpp"
#include "iclab/model/ridge_solver.hpp"
#include "iclab/sampling/task_pool.hpp"
#include "solver_problems.hpp"

using namespace iclab;
using namespace iclab::solver_test;

namespace {

ConjugateGradientOptions tight_cg() {
  ConjugateGradientOptions options;
  options.tolerance = 1e-13;  // well below the 1e-8 agreement asked of every solver
  return options;
}

const std::vector<Regime> kRegimes = solver_regimes();

}  // namespace

TEST(Solvers, EverySolverAgreesWithDirectInEveryRegime) {
  for (const Regime& r : kRegimes) {
    const Problem problem = make_problem(r.d, r.tau, r.kappa, 11, r.structured);
    const RidgeFit reference = DirectRidgeSolver().fit(problem.batch, r.lambda);
    const long n = problem.batch.size(), p = r.d * (r.d + 1);
    SCOPED_TRACE(r.label + " n=" + std::to_string(n) + " p=" + std::to_string(p));

    const RidgeFit cg = ConjugateGradientRidgeSolver(tight_cg()).fit(problem.batch, r.lambda);
    EXPECT_EQ(cg.report.solver, "cg");  // converged without falling back
    EXPECT_EQ(cg.report.system, n > p ? "primal" : "dual");
    EXPECT_GT(cg.report.iterations, 0);
    expect_agrees(problem, cg, reference, "cg");

    const RidgeFit automatic = AutoRidgeSolver().fit(problem.batch, r.lambda);
    EXPECT_EQ(automatic.report.solver.rfind("auto->", 0), 0u);
    expect_agrees(problem, automatic, reference, "auto");

    if (n <= p || r.lambda >= 1e-6) {  // the dual system for n > p needs a ridge to be well posed
      for (auto method : {DualOptions::Method::cholesky, DualOptions::Method::eigen}) {
        DualOptions options;
        options.method = method;
        const RidgeFit dual = DualRidgeSolver(options).fit(problem.batch, r.lambda);
        EXPECT_EQ(dual.report.system, "dual");
        expect_agrees(problem, dual, reference, "dual " + dual.report.factorization);
      }
    }
    if (n <= p) {
      DualOptions options;
      options.method = DualOptions::Method::cg;
      options.tolerance = 1e-13;
      const RidgeFit dual_cg = DualRidgeSolver(options).fit(problem.batch, r.lambda);
      EXPECT_EQ(dual_cg.report.solver, "dual");
      EXPECT_EQ(dual_cg.report.factorization, "pcg-jacobi");
      expect_agrees(problem, dual_cg, reference, "dual cg");
    }
  }
}

TEST(Solvers, DefaultCgToleranceIsMetAndReported) {
  const Problem problem = make_problem(10, 3.0, 0.5, 3);
  const RidgeFit fit = ConjugateGradientRidgeSolver().fit(problem.batch, 1e-8);
  EXPECT_EQ(fit.report.solver, "cg");
  EXPECT_EQ(fit.report.factorization, "pcg-kronecker");
  const double tolerance = ConjugateGradientOptions{}.tolerance;
  EXPECT_LE(fit.report.relative_residual, tolerance);
  EXPECT_LT(normal_equation_residual(problem.batch, fit.gamma, 1e-8), 10 * tolerance);
  EXPECT_GT(fit.report.iterations, 5);
  EXPECT_LT(fit.report.iterations, 200);  // the Kronecker preconditioner: ~60 at tau = 3
  const RidgeFit reference = DirectRidgeSolver().fit(problem.batch, 1e-8);
  EXPECT_LT(relative(fit.gamma, reference.gamma), 1e-7);
  // the accuracy target: errors equal to the direct solve within 1e-8 relative
  const double e_cg = test_error(fit.gamma, problem.icl, problem.ell, kRho);
  const double e_direct = test_error(reference.gamma, problem.icl, problem.ell, kRho);
  EXPECT_LT(std::fabs(e_cg - e_direct), 1e-8 * e_direct);
}

TEST(Solvers, CgFallsBackToDirectWhenItStalls) {
  // n = p with a vanishing ridge: the primal system is numerically singular.
  const Problem problem = make_problem(8, 9.0 / 8.0, kInfinity, 5);
  ConjugateGradientOptions options;
  options.system = ConjugateGradientOptions::System::primal;
  options.max_iterations = 40;
  const std::vector<double> lambdas = {1.0, 1e-12};
  const auto fits = ConjugateGradientRidgeSolver(options).fit_path(problem.batch, lambdas);
  EXPECT_EQ(fits[0].report.solver, "cg");
  EXPECT_EQ(fits[1].report.solver, "cg->direct");
  EXPECT_GT(fits[1].report.iterations, 0);  // CG iterations spent before falling back
  EXPECT_LE(fits[1].report.iterations, 40);
  const auto reference = DirectRidgeSolver().fit_path(problem.batch, lambdas);
  EXPECT_LT(relative(fits[0].gamma, reference[0].gamma), 1e-8);
  EXPECT_EQ(fits[1].gamma, reference[1].gamma);
  // without the fallback the unconverged iterate is returned and its residual says so
  options.fallback_to_direct = false;
  const RidgeFit alone = ConjugateGradientRidgeSolver(options).fit(problem.batch, 1e-12);
  EXPECT_EQ(alone.report.solver, "cg");
  EXPECT_GT(alone.report.relative_residual, 1e-10);
}

TEST(Solvers, LambdaPathsEqualIndividualFits) {
  const std::vector<double> lambdas = {1e-6, 1.0, 1e-2, 0.1};  // unsorted on purpose
  const std::vector<const char*> names = {"cg", "dual", "auto", "direct"};
  for (double tau : {0.5, 3.0}) {
    const Problem problem = make_problem(8, tau, 0.5, 7);
    for (const char* name : names) {
      if (std::string(name) == "dual" && tau > 1) continue;  // see the regime test
      const auto solver = make_ridge_solver(name);
      const auto path = solver->fit_path(problem.batch, lambdas);
      ASSERT_EQ(path.size(), lambdas.size());
      for (std::size_t i = 0; i < lambdas.size(); ++i) {
        const RidgeFit single = solver->fit(problem.batch, lambdas[i]);
        EXPECT_EQ(path[i].lambda, lambdas[i]);
        // CG paths are warm-started, so they agree to the CG tolerance, not to the last bit
        EXPECT_LT(relative(path[i].gamma, single.gamma), 1e-8) << name << " tau=" << tau << " lambda=" << lambdas[i];
      }
    }
  }
}

TEST(Solvers, LongLambdaPathsUseOneEigendecomposition) {
  std::vector<double> lambdas;
  for (int i = 0; i < 24; ++i) lambdas.push_back(std::pow(10.0, -8.0 + 0.35 * i));
  for (double tau : {0.5, 3.0}) {
    const Problem problem = make_problem(8, tau, 1.0, 9);
    const DirectRidgeSolver direct;
    const auto path = direct.fit_path(problem.batch, lambdas);
    const bool dual_regime = tau < 1;
    const auto dual_path = DualRidgeSolver().fit_path(problem.batch, lambdas);
    for (std::size_t i = 0; i < lambdas.size(); ++i) {
      EXPECT_EQ(path[i].report.factorization, "eigen");
      const RidgeFit single = direct.fit(problem.batch, lambdas[i]);
      EXPECT_NE(single.report.factorization, "eigen");
      EXPECT_LT(relative(path[i].gamma, single.gamma), 1e-8) << "tau=" << tau << " lambda=" << lambdas[i];
      if (dual_regime) {
        EXPECT_EQ(dual_path[i].report.factorization, "eigen");
        EXPECT_LT(relative(dual_path[i].gamma, single.gamma), 1e-8) << "lambda=" << lambdas[i];
      }
    }
  }
}

TEST(Solvers, BitIdenticalWithOneAndTwoThreads) {
  // Sizes where threaded OpenBLAS products do change bits (checked), with several row blocks,
  // kernel tiles and Gram panels, so the threads really split the work.
  const Problem wide = make_problem(24, 0.6, 0.5, 13);   // n = 345 < p = 600
  const Problem tall = make_problem(24, 2.5, 0.5, 13);   // n = 1440 > p = 600
  DualOptions eigen;
  eigen.method = DualOptions::Method::eigen;
  DualOptions dual_cg;
  dual_cg.method = DualOptions::Method::cg;
  const std::vector<double> lambdas = {1e-2, 1e-6};
  const auto run_all = [&]() {
    std::vector<Matrix> out;
    for (const Problem* problem : {&wide, &tall}) {
      for (const auto& fit : ConjugateGradientRidgeSolver().fit_path(problem->batch, lambdas)) out.push_back(fit.gamma);
      for (const auto& fit : DualRidgeSolver().fit_path(problem->batch, lambdas)) out.push_back(fit.gamma);
      for (const auto& fit : DualRidgeSolver(eigen).fit_path(problem->batch, lambdas)) out.push_back(fit.gamma);
      for (const auto& fit : AutoRidgeSolver().fit_path(problem->batch, lambdas)) out.push_back(fit.gamma);
      for (const auto& fit : DirectRidgeSolver().fit_path(problem->batch, lambdas)) out.push_back(fit.gamma);
    }
    for (const auto& fit : DualRidgeSolver(dual_cg).fit_path(wide.batch, lambdas)) out.push_back(fit.gamma);
    return out;
  };
  const int omp_before = omp_get_max_threads();
  const int blas_before = blas_threads();
  omp_set_num_threads(1);
  set_blas_threads(1);
  const auto serial = run_all();
  omp_set_num_threads(2);
  set_blas_threads(2);
  const auto threaded = run_all();
  omp_set_num_threads(omp_before);
  set_blas_threads(blas_before);
  ASSERT_EQ(serial.size(), threaded.size());
  for (std::size_t i = 0; i < serial.size(); ++i) EXPECT_TRUE(serial[i] == threaded[i]) << "fit " << i;
}

TEST(Solvers, AutoChoosesBySize) {
  const Problem wide = make_problem(12, 0.5, 0.5, 21);
  EXPECT_EQ(AutoRidgeSolver().fit(wide.batch, 1e-6).report.solver, "auto->dual");
  const Problem small_tall = make_problem(8, 3.0, 0.5, 21);  // p = 72: direct
  EXPECT_EQ(AutoRidgeSolver().fit(small_tall.batch, 1e-6).report.solver, "auto->direct");
  const Problem tall = make_problem(24, 3.0, 0.5, 21);  // p = 600, far from tau = 1: cg
  EXPECT_EQ(AutoRidgeSolver().fit(tall.batch, 1e-6).report.solver, "auto->cg");
  // the predicted CG work grows without bound as n -> p with no ridge
  const Problem near = make_problem(24, 25.0 / 24.0 * 1.01, 0.5, 21);
  EXPECT_GT(AutoRidgeSolver::predicted_cg_iterations(near.batch, 0.0, 1e-10),
            10.0 * AutoRidgeSolver::predicted_cg_iterations(tall.batch, 0.0, 1e-10));
}

TEST(Solvers, MemoryGuardRefusesAbsurdSizes) {
  // n = 300 000 samples at d = 2: the n x n kernel would need about 670 GiB.
  const long n = 300'000, d = 2;
  FeatureBatch huge{Matrix::Constant(n, d, 0.5), Matrix::Constant(n, d + 1, 0.5), Vector::Constant(n, 1.0)};
  DualOptions cholesky;
  cholesky.method = DualOptions::Method::cholesky;
  const DualRidgeSolver solver(cholesky);
  EXPECT_GT(solver.estimate_bytes(n, d), 600.0 * 1024 * 1024 * 1024);
  try {
    solver.fit(huge, 1.0);
    ADD_FAILURE() << "expected InvalidArgument";
  } catch (const InvalidArgument& error) {
    const std::string message = error.what();
    EXPECT_EQ(message.rfind("memory:", 0), 0u) << message;
    EXPECT_NE(message.find("GiB"), std::string::npos) << message;
    EXPECT_NE(message.find("available"), std::string::npos) << message;
  }
  // the automatic dual method does not build that kernel: it goes matrix-free
  EXPECT_EQ(DualRidgeSolver().resolve(n, d, 1), DualOptions::Method::cg);
  EXPECT_LT(DualRidgeSolver().estimate_bytes(n, d), 1e9);
  EXPECT_LT(ConjugateGradientRidgeSolver().estimate_bytes(n, d), 1e9);
  // n < p = 360 600 with a kernel of 720 GB: auto goes matrix-free too (no n x n, no p x p)
  EXPECT_LT(AutoRidgeSolver().estimate_bytes(n, 600), 0.01 * 8.0 * static_cast<double>(n) * static_cast<double>(n));
}

TEST(Solvers, FactoryKnowsEverySolver) {
  for (const char* name : {"auto", "direct", "cg", "dual"}) EXPECT_EQ(make_ridge_solver(name)->name(), name);
  try {
    make_ridge_solver("magic");
    ADD_FAILURE() << "expected InvalidArgument";
  } catch (const InvalidArgument& error) {
    const std::string message = error.what();
    for (const char* name : {"auto", "direct", "cg", "dual", "magic"}) EXPECT_NE(message.find(name), std::string::npos);
  }
}

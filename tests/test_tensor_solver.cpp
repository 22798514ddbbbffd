// The tensor-backed Gamma* solver (nn/tensor_solver, libtorch float64) against the core's Eigen
// solvers on the same data, in every regime of test_solvers: tau < 1, tau ~ 1 with a ridge, tau > 1;
// finite and infinite kappa; isotropic and structured tasks. On the CPU here; on a CUDA machine the
// same checks run on the GPU as well.
//
// Tolerances: both sides solve the same float64 normal equations. The dense methods (Cholesky, the
// eigendecomposition) differ only by rounding, about cond(A) * 1e-16 relative; the systems here have
// cond(A) <= ~1e6 (ridge 1e-8 at n/d = O(1)), so 1e-8 on Gamma and on the errors, the accuracy the
// core's solvers promise each other, leaves a margin of 100. CG runs at tolerance 1e-13 where it is
// compared to 1e-8 (the error of a solution is at most cond * residual), and at its default 1e-9
// where only the reported residual is checked.
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <torch/cuda.h>
#include <unistd.h>

#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "iclab/evaluation/test_error.hpp"
#include "iclab/experiments/evaluate.hpp"
#include "iclab/experiments/experiment.hpp"
#include "iclab/experiments/simulate.hpp"
#include "iclab/io/csv_reader.hpp"
#include "iclab/io/text_file.hpp"
#include "iclab/model/cg_solver.hpp"
#include "iclab/model/ridge_solver.hpp"
#include "iclab/nn/tensor_solver.hpp"
#include "iclab/nn/transformer_evaluator.hpp"
#include "iclab/sampling/task_pool.hpp"
#include "solver_problems.hpp"
#include "test_support.hpp"

using namespace iclab;
using namespace iclab::solver_test;
using namespace iclab::test_support;
using iclab::nn::TensorRidgeSolver;
using iclab::nn::TensorSolverOptions;
namespace fs = std::filesystem;

namespace {

// run_iclab runs the plain `iclab`, which hands --device work to `iclab-nn`.
fs::path temp_dir(const std::string& name) { return fresh_dir("iclab_tensor", name); }

TensorRidgeSolver solver(const std::string& method, const std::string& device, double tolerance = 1e-9) {
  TensorSolverOptions options;
  options.method = method;
  options.device = device;
  options.tolerance = tolerance;
  return TensorRidgeSolver(options);
}

// The devices to check: the CPU always, CUDA where this build and machine have it.
std::vector<std::string> devices() {
  std::vector<std::string> out = {"cpu"};
  if (torch::cuda::is_available()) out.push_back("cuda");
  return out;
}

// The core's regimes, and one where auto picks cg (p > 256).
std::vector<Regime> tensor_regimes() {
  std::vector<Regime> regimes = solver_regimes();
  regimes.push_back({"tau>1 p>256 (auto: cg)", 18, 3.0, 0.5, 1e-6, false});
  return regimes;
}
const std::vector<Regime> kRegimes = tensor_regimes();

}  // namespace

TEST(TensorSolver, EveryMethodAgreesWithTheEigenSolversInEveryRegime) {
  for (const std::string& device : devices()) {
    for (const Regime& r : kRegimes) {
      const Problem problem = make_problem(r.d, r.tau, r.kappa, 11, r.structured);
      const RidgeFit reference = DirectRidgeSolver().fit(problem.batch, r.lambda);
      const long n = problem.batch.size(), p = r.d * (r.d + 1);
      SCOPED_TRACE(device + " " + r.label + " n=" + std::to_string(n) + " p=" + std::to_string(p));

      const RidgeFit cg = solver("cg", device, 1e-13).fit(problem.batch, r.lambda);
      EXPECT_EQ(cg.report.solver, "cg");  // converged without falling back
      EXPECT_EQ(cg.report.system, n > p ? "primal" : "dual");
      EXPECT_EQ(cg.report.factorization, n > p ? "pcg-kronecker" : "pcg-jacobi");
      EXPECT_GT(cg.report.iterations, 0);
      EXPECT_EQ(cg.report.device, device);
      expect_agrees(problem, cg, reference, "cg");

      const RidgeFit automatic = solver("auto", device, 1e-13).fit(problem.batch, r.lambda);
      // the core's choice for the same batch (memory is plentiful on both sides at these sizes)
      EXPECT_EQ(automatic.report.solver, make_ridge_solver("auto")->fit(problem.batch, r.lambda).report.solver);
      expect_agrees(problem, automatic, reference, "auto");

      const RidgeFit direct = solver("direct", device).fit(problem.batch, r.lambda);
      EXPECT_EQ(direct.report.solver, "direct");
      EXPECT_EQ(direct.report.system, n < p ? "dual" : "primal");
      expect_agrees(problem, direct, reference, "direct");

      if (n <= p || r.lambda >= 1e-6) {  // the dual system for n > p needs a ridge to be well posed
        const RidgeFit dual = solver("dual", device).fit(problem.batch, r.lambda);
        EXPECT_EQ(dual.report.solver, "dual");
        EXPECT_EQ(dual.report.system, "dual");
        expect_agrees(problem, dual, reference, "dual " + dual.report.factorization);
      }
    }
  }
}

TEST(TensorSolver, DefaultCgToleranceIsMetAndCheckedOnTheHost) {
  const Problem problem = make_problem(10, 3.0, 0.5, 3);
  TensorSolverOptions options;
  options.method = "cg";
  options.host_check = TensorSolverOptions::HostCheck::always;
  const RidgeFit fit = TensorRidgeSolver(options).fit(problem.batch, 1e-8);
  const double tolerance = ConjugateGradientOptions{}.tolerance;
  EXPECT_EQ(TensorSolverOptions{}.tolerance, tolerance);  // the same default as the core's cg
  EXPECT_EQ(fit.report.solver, "cg");
  EXPECT_LE(fit.report.relative_residual, tolerance);
  // the host's recomputation (the core's kernels) sees the same residual, up to its own rounding
  EXPECT_LT(fit.report.host_residual, 10 * tolerance);
  EXPECT_NEAR(fit.report.host_residual, normal_equation_residual(problem.batch, fit.gamma, 1e-8), 1e-15);
  EXPECT_GT(fit.report.iterations, 5);
  EXPECT_LT(fit.report.iterations, 200);
  // on the CPU the host check is off by default, and the report says so by leaving the field out
  const RidgeFit plain = solver("cg", "cpu").fit(problem.batch, 1e-8);
  EXPECT_TRUE(std::isnan(plain.report.host_residual));
  EXPECT_FALSE(plain.report.to_json().contains("host_residual"));
  EXPECT_EQ(plain.report.to_json().at("device"), "cpu");
}

TEST(TensorSolver, CgFallsBackToTheDenseSolveWhenItStalls) {
  // n = p with a vanishing ridge: the primal system is numerically singular.
  const Problem problem = make_problem(8, 9.0 / 8.0, kInfinity, 5);
  TensorSolverOptions options;
  options.method = "cg";
  options.max_iterations = 40;
  const std::vector<double> lambdas = {1.0, 1e-12};
  const auto fits = TensorRidgeSolver(options).fit_path(problem.batch, lambdas);
  EXPECT_EQ(fits[0].report.solver, "cg");
  EXPECT_EQ(fits[1].report.solver, "cg->direct");
  EXPECT_GT(fits[1].report.iterations, 0);  // CG iterations spent before falling back
  EXPECT_LE(fits[1].report.iterations, 40);
  const auto reference = DirectRidgeSolver().fit_path(problem.batch, lambdas);
  EXPECT_LT(relative(fits[0].gamma, reference[0].gamma), 1e-8);
  EXPECT_LT(relative(fits[1].gamma, reference[1].gamma), 1e-8);
  // without the fallback the unconverged iterate is returned and its residual says so
  options.fallback_to_direct = false;
  const RidgeFit alone = TensorRidgeSolver(options).fit(problem.batch, 1e-12);
  EXPECT_EQ(alone.report.solver, "cg");
  EXPECT_GT(alone.report.relative_residual, 1e-10);
}

TEST(TensorSolver, LambdaPathsAgreeWithTheEigenSolvers) {
  const std::vector<double> lambdas = {1e-6, 1.0, 1e-2, 0.1};  // unsorted on purpose
  std::vector<double> long_path;                               // >= 20 lambdas: one eigendecomposition
  for (int i = 0; i < 24; ++i) long_path.push_back(std::pow(10.0, -8.0 + 0.35 * i));
  for (double tau : {0.5, 3.0}) {
    const Problem problem = make_problem(8, tau, 0.5, 7);
    for (const char* method : {"cg", "dual", "auto", "direct"}) {
      if (std::string(method) == "dual" && tau > 1) continue;
      for (const std::vector<double>* path : {&lambdas, static_cast<const std::vector<double>*>(&long_path)}) {
        const auto fits = solver(method, "cpu", 1e-13).fit_path(problem.batch, *path);
        const auto reference = make_ridge_solver(method)->fit_path(problem.batch, *path);
        ASSERT_EQ(fits.size(), path->size());
        for (std::size_t i = 0; i < path->size(); ++i) {
          EXPECT_EQ(fits[i].lambda, (*path)[i]);
          EXPECT_EQ(fits[i].report.factorization, reference[i].report.factorization)
              << method << " tau=" << tau << " lambda=" << (*path)[i];
          EXPECT_LT(relative(fits[i].gamma, reference[i].gamma), 1e-8)
              << method << " tau=" << tau << " lambda=" << (*path)[i];
        }
      }
    }
  }
}

TEST(TensorSolver, SimulationDrawsAreUnchangedOnlyTheFitMoves) {
  // simulate_point runs a tensor solver's fits one at a time (on a GPU overlapped with the next draw);
  // the draws are the same, so every repetition's errors agree with the Eigen solver's to the solver
  // tolerance.
  ModelParams m;
  m.d = 10;
  m.alpha = 2;
  m.tau = 3;
  m.kappa = 0.5;
  m.rho = 0.01;
  const std::vector<double> lambdas = {1e-6, 1e-2};
  const TensorRidgeSolver tensor = solver("auto", "cpu", 1e-13);
  EXPECT_EQ(tensor.scheduling(), RidgeSolver::Scheduling::serial);
  EXPECT_EQ(make_ridge_solver("auto")->scheduling(), RidgeSolver::Scheduling::concurrent);
  long callbacks = 0;
  const auto got = simulate_point(m, {}, lambdas, 4, 3, tensor, [&] { ++callbacks; });
  const auto want = simulate_point(m, {}, lambdas, 4, 3, *make_ridge_solver("auto"));
  EXPECT_EQ(callbacks, 4);
  // the overlapped schedule of a GPU (the next repetition drawn on another thread while one fits), here
  // on the CPU: the same draws, hence the same fits (to rounding: it runs torch on one thread here)
  TensorSolverOptions options;
  options.method = "auto";
  options.tolerance = 1e-13;
  options.threads = 1;
  options.scheduling = RidgeSolver::Scheduling::overlapped;
  const TensorRidgeSolver overlapped(options);
  ASSERT_EQ(overlapped.scheduling(), RidgeSolver::Scheduling::overlapped);
  const auto serial_one = simulate_point(m, {}, lambdas, 4, 3, solver("auto", "cpu", 1e-13));
  const auto pipelined = simulate_point(m, {}, lambdas, 4, 3, overlapped, [&] { ++callbacks; });
  EXPECT_EQ(callbacks, 8);
  ASSERT_EQ(got.size(), want.size());
  for (std::size_t l = 0; l < got.size(); ++l) {
    ASSERT_EQ(got[l].repetitions.size(), 4u);
    ASSERT_EQ(pipelined[l].repetitions.size(), 4u);
    for (std::size_t r = 0; r < 4; ++r) {
      EXPECT_LT(relative(got[l].repetitions[r].idg_error, want[l].repetitions[r].idg_error), 1e-8);
      EXPECT_LT(relative(got[l].repetitions[r].icl_errors[0], want[l].repetitions[r].icl_errors[0]), 1e-8);
      EXPECT_EQ(got[l].repetitions[r].report.device, "cpu");
      // distinct repetitions really are distinct draws (a schedule that reused one would pass the rest)
      if (r > 0) {
        EXPECT_NE(got[l].repetitions[r].idg_error, got[l].repetitions[r - 1].idg_error);
      }
      EXPECT_LT(relative(pipelined[l].repetitions[r].idg_error, want[l].repetitions[r].idg_error), 1e-8);
      EXPECT_LT(relative(pipelined[l].repetitions[r].icl_errors[0], want[l].repetitions[r].icl_errors[0]), 1e-8);
      EXPECT_LT(relative(pipelined[l].repetitions[r].idg_error, serial_one[l].repetitions[r].idg_error), 1e-12);
    }
  }
}

TEST(TensorSolver, RefusesUnknownMethodsAndDevicesAndStatesItsMemory) {
  for (const char* method : {"magic", ""}) {
    TensorSolverOptions options;
    options.method = method;
    EXPECT_THROW(TensorRidgeSolver{options}, InvalidArgument) << method;
  }
  TensorSolverOptions bad_device;
  bad_device.device = "tpu";
  EXPECT_THROW(TensorRidgeSolver{bad_device}, InvalidArgument);
  if (!torch::cuda::is_available()) {
    TensorSolverOptions cuda;
    cuda.device = "cuda";
    try {
      TensorRidgeSolver{cuda};
      ADD_FAILURE() << "expected InvalidArgument without CUDA";
    } catch (const InvalidArgument& error) {
      EXPECT_NE(std::string(error.what()).find("CUDA"), std::string::npos) << error.what();
    }
  }
  // The device footprint: the features (8 n (2d + 2) bytes) plus the method's workspace; the dense
  // methods hold the p x p (or n x n) system a few times over.
  const long n = 360'000, d = 300;  // tau = 4
  const double features = 8.0 * n * (2.0 * d + 2.0);
  const double cg = solver("cg", "cpu").device_bytes(n, d);
  EXPECT_GT(cg, features);
  EXPECT_LT(cg, 1.5 * features);
  const double p = static_cast<double>(d) * (d + 1);
  EXPECT_GT(solver("direct", "cpu").device_bytes(n, d), 3.0 * 8.0 * p * p);
  EXPECT_EQ(solver("auto", "cpu").device_bytes(n, d), cg);  // auto can always go matrix-free
  // the factory: the core's solvers without a device, tensors with one
  EXPECT_EQ(nn::make_ridge_solver_on("cg", "")->scheduling(), RidgeSolver::Scheduling::concurrent);
  EXPECT_EQ(nn::make_ridge_solver_on("cg", "cpu")->scheduling(), RidgeSolver::Scheduling::serial);
  EXPECT_THROW(nn::make_ridge_solver_on("magic", "cpu"), InvalidArgument);
}

TEST(TensorSolver, ExperimentFilesTakeADeviceForTheSimulation) {
  const std::string head = R"(name = "dev"
compute = ["simulation"]
seed = 2
repeats = 3
[parameters]
d = 10
alpha = 2
kappa = 0.5
rho = 0.01
lambda = [1e-6, 1e-2]
)";
  const Experiment plain = parse_experiment(head + "[grid]\ntau = [0.5, 3]\n", "dev.toml");
  const Experiment on_cpu = parse_experiment(head + "device = \"cpu\"\n[grid]\ntau = [0.5, 3]\n", "dev.toml");
  EXPECT_NE(plain.identity_hash(), on_cpu.identity_hash());  // a device's run never resumes another's
  // the core alone cannot fit on a device: refused by name, before any work
  try {
    (void)make_point_evaluator(on_cpu);
    ADD_FAILURE() << "expected InvalidArgument";
  } catch (const InvalidArgument& error) {
    EXPECT_NE(std::string(error.what()).find("dev.toml:11: parameters.device"), std::string::npos) << error.what();
  }
  // a device without a simulation (or Transformers) is refused
  EXPECT_THROW(parse_experiment("name = \"t\"\ncompute = [\"theory\"]\n[parameters]\nalpha = 1\ntau = 1\nkappa = 1\n"
                                "rho = 0.1\ndevice = \"cpu\"\n",
                                "t.toml"),
               InvalidArgument);
  const auto reference = make_point_evaluator(plain);
  const auto tensor = nn::make_evaluator_with_nn(on_cpu);
  const std::vector<std::string>& columns = reference->columns();
  ASSERT_EQ(tensor->columns(), columns);  // the device changes no column
  const auto points = expand_points(on_cpu);
  for (const ExperimentPoint& point : points) {
    tensor->validate(point);
    const auto got = tensor->evaluate(point);
    const auto want = reference->evaluate(expand_points(plain)[point.index]);
    ASSERT_EQ(got.size(), want.size());
    for (std::size_t row = 0; row < got.size(); ++row)
      for (std::size_t c = 0; c < columns.size(); ++c) {
        if (const double* a = std::get_if<double>(&got[row][c])) {
          const double b = std::get<double>(want[row][c]);
          // the errors agree to the solver tolerance (the file header); their std over 3 repetitions is a
          // difference of such numbers, hence the absolute floor
          EXPECT_NEAR(*a, b, 1e-8 * std::abs(b) + 1e-12) << columns[c] << " at point " << point.index;
        } else {
          EXPECT_EQ(got[row][c], want[row][c]) << columns[c];
        }
      }
  }
  const nlohmann::json fits = tensor->description().at("simulation_fits");
  EXPECT_EQ(fits.at("fits_this_session"), 2 * 3 * 2);  // points x repeats x lambdas
  EXPECT_LT(fits.at("max_relative_residual").get<double>(), 1e-8);
  EXPECT_EQ(fits.at("used").size(), 2u) << fits.dump();  // dual at tau = 0.5, direct at tau = 3 (p = 110)
  EXPECT_NE(fits.dump().find("on cpu"), std::string::npos) << fits.dump();
}

TEST(TensorSolver, SimulateDeviceRunsTheTensorSolverThroughIclab) {
  const fs::path dir = temp_dir("simulate");
  const std::string args =
      "simulate --d 12 --alpha 2 --tau 0.5,3 --kappa 0.5 --rho 0.01 --lambda 1e-6 --repeats 2 --seed 4";
  ASSERT_EQ(run_iclab(args + " --out " + (dir / "eigen.csv").string(), dir), 0);
  std::string err;
  ASSERT_EQ(run_iclab(args + " --device cpu --out " + (dir / "tensor.csv").string(), dir, &err), 0) << err;
  const CsvData eigen = read_csv((dir / "eigen.csv").string(), "eigen");
  const CsvData tensor = read_csv((dir / "tensor.csv").string(), "tensor");
  ASSERT_EQ(eigen.columns, tensor.columns);
  ASSERT_EQ(eigen.rows.size(), 2u);
  ASSERT_EQ(tensor.rows.size(), 2u);
  for (const char* column : {"icl_mean", "idg_mean", "icl_std", "idg_std"}) {
    const std::size_t c = eigen.column(column, "eigen", "eigen.csv");
    for (std::size_t r = 0; r < 2; ++r) {
      const double a = std::stod(tensor.rows[r][c]), b = std::stod(eigen.rows[r][c]);
      EXPECT_NEAR(a, b, 1e-8 * std::abs(b) + 1e-12) << column;  // see the file header
    }
  }
  const std::string meta = read_text_file((dir / "tensor.csv.meta.json").string()).value_or("");
  EXPECT_NE(meta.find("\"device\": \"cpu\""), std::string::npos);
  // bad devices: exit 2, one line naming --device, no output file
  for (const char* device : {"tpu", "cuda:x"}) {
    EXPECT_EQ(run_iclab(args + " --device " + device + " --out " + (dir / "bad.csv").string(), dir, &err), 2) << device;
    EXPECT_EQ(err.rfind("iclab: error: --device", 0), 0u) << err;
    EXPECT_FALSE(fs::exists(dir / "bad.csv"));
  }
  if (!torch::cuda::is_available()) {
    EXPECT_EQ(run_iclab(args + " --device cuda --out " + (dir / "bad.csv").string(), dir, &err), 2);
    EXPECT_NE(err.find("CUDA"), std::string::npos) << err;
    EXPECT_FALSE(fs::exists(dir / "bad.csv"));
    // reproduce checks the device before it writes anything
    EXPECT_EQ(run_iclab("reproduce lu2024-fig1 --quick --device cuda --out " + (dir / "fig").string(), dir, &err), 2);
    EXPECT_FALSE(fs::exists(dir / "fig"));
  }
  fs::remove_all(dir);
}

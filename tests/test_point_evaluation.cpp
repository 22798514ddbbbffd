// One evaluation path: the direct commands' tables (command_tables.hpp, behind `iclab theory`, `simulate`,
// `align`, `kspectrum` and the Python functions) and the runner's PointEvaluator compute a point through
// the same functions (point_evaluation.hpp), so for the same points they agree to the last bit. Each
// test runs an experiment file through the runner, builds the same points for the command's table and
// compares every value column they share with exact equality (no tolerance: the same function on the
// same inputs gives the same double; any difference means a second code path).
#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <vector>

#include "iclab/covariances/covariance_spec.hpp"
#include "iclab/experiments/command_tables.hpp"
#include "iclab/experiments/evaluate.hpp"
#include "iclab/experiments/experiment.hpp"
#include "iclab/model/ridge_solver.hpp"
#include "iclab/theory/alignment.hpp"

using namespace iclab;

namespace {

struct RunnerTable {
  std::vector<ExperimentPoint> points;
  std::vector<std::string> columns;
  std::vector<std::vector<Cell>> rows;
};

RunnerTable run(const std::string& toml) {
  const Experiment experiment = parse_experiment(toml, "test.toml");
  PointEvaluator evaluator(experiment);
  RunnerTable out{expand_points(experiment), evaluator.columns(), {}};
  for (const ExperimentPoint& p : out.points)
    for (auto& row : evaluator.evaluate(p)) out.rows.push_back(std::move(row));
  return out;
}

std::size_t column(const std::vector<std::string>& columns, const std::string& name) {
  const auto it = std::find(columns.begin(), columns.end(), name);
  EXPECT_NE(it, columns.end()) << "no column " << name;
  return static_cast<std::size_t>(it - columns.begin());
}

// Every column of `names`: the command's cells equal the runner's, row by row.
void expect_same_values(const Table& command, const RunnerTable& runner, const std::vector<std::string>& names) {
  ASSERT_EQ(command.rows().size(), runner.rows.size());
  ASSERT_FALSE(command.rows().empty());
  for (const std::string& name : names) {
    const std::size_t c = column(command.columns(), name), r = column(runner.columns, name);
    // A column of empty cells would compare equal whatever computed it.
    EXPECT_TRUE(std::any_of(runner.rows.begin(), runner.rows.end(),
                            [r](const auto& row) { return !std::holds_alternative<std::monostate>(row[r]); }))
        << name << " is empty in every row";
    for (std::size_t i = 0; i < runner.rows.size(); ++i) {
      const Cell &a = command.rows()[i][c], &b = runner.rows[i][r];
      ASSERT_EQ(a.index(), b.index()) << name << ", row " << i;
      if (const auto* x = std::get_if<double>(&a)) {
        EXPECT_EQ(*x, std::get<double>(b)) << name << ", row " << i;
      } else if (const auto* y = std::get_if<long>(&a)) {
        EXPECT_EQ(*y, std::get<long>(b)) << name << ", row " << i;
      } else if (const auto* z = std::get_if<std::string>(&a)) {
        EXPECT_EQ(*z, std::get<std::string>(b)) << name << ", row " << i;
      }
    }
  }
}

}  // namespace

TEST(CommandsAndRunner, IsotropicTheoryAndAlphaMinimum) {
  const RunnerTable runner = run(R"(
name = "iso"
compute = ["theory"]
[parameters]
rho = 0.01
lambda = [0, 0.1]
[grid]
alpha = [0.5, 3]
tau = [0.4, 4]
kappa = [0.5, 2]
)");
  std::vector<theory::IsotropicPoint> points;
  for (const ExperimentPoint& p : runner.points)
    for (double lambda : p.lambdas) points.push_back({*p.alpha, *p.tau, *p.kappa, *p.rho, lambda});
  expect_same_values(isotropic_theory_table(points).table, runner,
                     {"alpha", "tau", "kappa", "rho", "lambda", "e_icl", "e_idg", "g_task"});

  const RunnerTable minimum = run(R"(
name = "minimum"
compute = ["alpha_minimum"]
[parameters]
lambda = [0, 0.01]
[grid]
tau = [0.5, 20]
kappa = [0.3, 1.5]
rho = [0.05, 0.8]
)");
  std::vector<theory::IsotropicPoint> tkrl;  // (tau, kappa, rho, lambda); alpha unused
  for (const ExperimentPoint& p : minimum.points)
    for (double lambda : p.lambdas) tkrl.push_back({1.0, *p.tau, *p.kappa, *p.rho, lambda});
  expect_same_values(alpha_min_table(theory::Observable::icl, tkrl).table, minimum,
                     {"tau", "kappa", "rho", "lambda", "alpha_min_icl"});
  expect_same_values(alpha_min_table(theory::Observable::idg, tkrl).table, minimum, {"alpha_min_idg"});
}

TEST(CommandsAndRunner, TaskAlignmentTheoryMeasuresAndKSpectrum) {
  const long d = 24;
  const RunnerTable runner = run(R"(
name = "general"
compute = ["alignment"]
[parameters]
d = 24
alpha_test = 1.5
tau = 4
rho = 0.01
ctrain = "power:0.9"
ctest = ["iso", "power:0.5", "lowrank:0.5"]
[grid]
alpha = [0.5, 2]
kappa = [0.3, 1.5]
)");
  const TaskCovariance train = parse_covariance("power:0.9", d, "--ctrain");
  const auto tests = parse_covariance_list("iso;power:0.5;lowrank:0.5", d, "--ctest");
  std::vector<theory::AlignmentPoint> points;
  for (const ExperimentPoint& p : runner.points) points.push_back({*p.alpha, *p.tau, *p.kappa, *p.rho, 1.5});
  expect_same_values(alignment_theory_table(d, {train}, tests, points).table, runner,
                     {"ctest", "alpha", "alpha_test", "kappa", "e_icl", "e_idg", "e_scalar", "e_misalign"});
  // align: one (alpha, tau, rho), a row per (kappa, test); the runner's rows at alpha = 2.
  RunnerTable at_alpha = runner;
  at_alpha.rows.clear();
  std::vector<theory::AlignmentPoint> align_points;
  const std::size_t alpha_column = column(runner.columns, "alpha");
  for (const auto& row : runner.rows)
    if (std::get<double>(row[alpha_column]) == 2.0) at_alpha.rows.push_back(row);
  for (const auto& p : points)
    if (p.alpha == 2.0) align_points.push_back(p);
  expect_same_values(align_table(train, tests, align_points).table, at_alpha,
                     {"ctest", "kappa", "e_icl", "e_misalign", "resolvent", "trace", "inv_cka"});

  const RunnerTable spectrum = run(R"(
name = "spectrum"
compute = ["k_spectrum"]
[parameters]
d = 24
tau = 0.5
rho = 0.01
ctrain = "power:0.9"
[grid]
alpha = [0.5, 2]
kappa = [0.3, 1.5]
)");
  std::vector<theory::AlignmentPoint> spectrum_points;
  for (const ExperimentPoint& p : spectrum.points)
    spectrum_points.push_back({*p.alpha, *p.tau, *p.kappa, *p.rho, std::nullopt});
  expect_same_values(kspectrum_table(train, spectrum_points).table, spectrum,
                     {"alpha", "kappa", "index", "train_eigenvalue", "k_eigenvalue"});
}

TEST(CommandsAndRunner, SimulationWithTheory) {
  const auto solver = make_ridge_solver("direct");
  for (const bool general : {false, true}) {
    SCOPED_TRACE(general ? "with covariances" : "isotropic");
    const long d = 8;
    const RunnerTable runner = run(std::string(R"(
name = "sim"
compute = ["theory", "simulation"]
seed = 11
repeats = 2
solver = "direct"
[parameters]
d = 8
tau = 3
rho = 0.01
lambda = [0.001, 0.5]
)") + (general ? "ctrain = \"power:0.9\"\nctest = [\"iso\", \"power:0.5\"]\n" : "") +
                                   R"(
[grid]
alpha = [1, 2]
kappa = [0.5, 2]
)");
    SimulationRequest request;
    for (const ExperimentPoint& p : runner.points) {
      ModelParams& m = request.points.emplace_back();
      m.d = d;
      m.alpha = *p.alpha;
      m.tau = *p.tau;
      m.kappa = *p.kappa;
      m.rho = *p.rho;
    }
    TaskSetting& setting = request.settings[d];
    if (general) {
      setting.train = parse_covariance("power:0.9", d, "--ctrain");
      setting.tests = parse_covariance_list("iso;power:0.5", d, "--ctest");
    }
    request.general = general;
    request.lambdas = {0.001, 0.5};
    request.repeats = 2;
    request.seed = 11;
    request.solver = solver.get();
    request.with_theory = true;
    std::vector<std::string> names = {"d",        "alpha",   "kappa",     "tau",        "rho",   "lambda", "repeats",
                                      "icl_mean", "icl_std", "idg_mean",  "idg_std",    "e_icl", "e_idg",  "ell",
                                      "k",        "n",       "task_norm", "assignment", "seed"};
    if (general) names.insert(names.end(), {"ctrain", "ctest"});
    expect_same_values(simulation_table(request).table, runner, names);
  }
}

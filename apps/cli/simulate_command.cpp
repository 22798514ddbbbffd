// `iclab simulate`: Gamma* fits on sampled pretraining data, with exact ICL/IDG test errors.
#include <cmath>
#include <limits>
#include <map>

#include "commands.hpp"
#include "iclab/experiments/simulate.hpp"
#include "iclab/io/progress.hpp"
#include "iclab/io/table.hpp"
#include "iclab/params/model_params.hpp"
#include "iclab/params/value_list.hpp"
#include "iclab/theory/general.hpp"
#include "iclab/theory/isotropic.hpp"
#include "output.hpp"
#include "preset_registry.hpp"

namespace iclab::cli {
namespace {

struct SimulateOptions {
  std::string d, alpha, tau, kappa, rho, lambda = "0";
  long repeats = 10;
  std::string seed = "0";
  std::string task_norm = "gaussian", assignment = "random", solver = "auto", device;
  std::string ctrain, ctest, error_form = "exact";
  bool with_theory = false;
  OutputOptions output;
};

ErrorForm parse_error_form(const std::string& text) {
  if (text == "exact") return ErrorForm::exact;
  if (text == "asymptotic") return ErrorForm::asymptotic;
  throw InvalidArgument("--error-form: expected 'exact' or 'asymptotic', got '" + text + "'");
}

// One simulated grid point with its task setting (C_train/C_test parsed for its d).
struct SimulationPoint {
  ModelParams model;
  TaskSetting setting;
};

void run_simulate(const SimulateOptions& o, const std::string& command_line) {
  check_output_target(o.output);
  if (o.repeats < 1 || o.repeats > kMaxRepeats)
    throw InvalidArgument("--repeats: must be an integer in [1, " + std::to_string(kMaxRepeats) + "]");
  const auto ds = parse_integer_list(o.d, "--d");
  const auto alphas = parse_value_list(o.alpha, "--alpha");
  const auto kappas = parse_value_list(o.kappa, "--kappa", {.allow_infinity = true});
  const auto taus = parse_value_list(o.tau, "--tau");
  const auto rhos = parse_value_list(o.rho, "--rho");
  const auto lambdas = parse_value_list(o.lambda, "--lambda");
  const std::uint64_t seed = parse_seed(o.seed, "--seed");
  const TaskNorm norm = parse_task_norm(o.task_norm);
  const Assignment assignment = parse_assignment(o.assignment);
  const ErrorForm form = parse_error_form(o.error_form);
  const auto solver = make_solver(o.solver, o.device, "--device");
  for (double l : lambdas)
    if (!(l >= 0)) throw InvalidArgument("--lambda: must be >= 0");
  const bool general = !o.ctrain.empty() || !o.ctest.empty();

  // Covariances depend on d only: parse (and eigendecompose) them once per d, not once per grid point.
  std::map<long, TaskSetting> settings_by_d;
  for (long d : ds) {
    if (d < 2) throw InvalidArgument("--d: must be an integer >= 2, got " + std::to_string(d));
    TaskSetting& setting = settings_by_d[d];
    setting.form = form;
    if (general) {
      setting.train = parse_covariance(o.ctrain.empty() ? "iso" : o.ctrain, d, "--ctrain");
      setting.tests = parse_covariance_list(o.ctest.empty() ? "iso" : o.ctest, d, "--ctest");
    }
  }
  const GridIndex grid({ds.size(), alphas.size(), kappas.size(), taus.size(), rhos.size()});
  std::vector<SimulationPoint> points;
  for (std::size_t i = 0; i < grid.size(); ++i) {
    const auto ix = grid.at(i);
    SimulationPoint point;
    ModelParams& m = point.model;
    m.d = ds[ix[0]];
    m.alpha = alphas[ix[1]];
    m.kappa = kappas[ix[2]];
    m.tau = taus[ix[3]];
    m.rho = rhos[ix[4]];
    m.task_norm = norm;
    m.assignment = assignment;
    m.validate();
    for (double l : lambdas)
      if (m.tau == 1.0 && l == 0.0)
        throw InvalidArgument("--lambda: tau = 1 with lambda = 0 is the interpolation threshold; use lambda > 0");
    point.setting = settings_by_d.at(m.d);
    points.push_back(std::move(point));
  }
  // Memory (the host's, and a device's for --device) for every point before any work.
  for (const SimulationPoint& point : points) require_simulation_memory(point.model, *solver);

  std::vector<std::string> columns = {"d"};
  if (general) columns.insert(columns.end(), {"ctrain", "ctest"});
  columns.insert(columns.end(), {"alpha", "kappa", "tau", "rho", "lambda", "repeats", "icl_mean", "icl_std",
                                 "idg_mean", "idg_std"});
  if (o.with_theory) {
    if (general)
      columns.insert(columns.end(), {"e_icl_ridgeless", "e_idg_ridgeless"});
    else
      columns.insert(columns.end(), {"e_icl", "e_idg"});
  }
  columns.insert(columns.end(), {"ell", "k", "n", "task_norm", "assignment", "seed"});
  Table table(columns);
  RunInfo info;
  info.command_line = command_line;
  info.extra["seed"] = seed;
  info.extra["error_form"] = o.error_form;
  if (!o.device.empty()) info.extra["device"] = o.device;
  nlohmann::json reports = nlohmann::json::array();

  ProgressBar progress("simulate", static_cast<long>(points.size()) * o.repeats);
  for (const SimulationPoint& point : points) {
    const ModelParams& m = point.model;
    const auto results =
        simulate_point(m, point.setting, lambdas, o.repeats, seed, *solver, [&] { progress.advance(); });
    // The task-alignment theory (ridgeless) is solved once per point and evaluated on every test.
    std::vector<theory::IclError> general_theory;
    double general_idg = 0.0;
    if (o.with_theory && general) {
      const theory::AlignmentTheory alignment(*point.setting.train);
      const auto solved = alignment.solve({m.alpha, m.tau, m.kappa, m.rho, std::nullopt});
      for (const auto& test : point.setting.tests) general_theory.push_back(alignment.evaluate(solved, test));
      general_idg = solved.e_idg();
    }
    for (const SimulationResult& r : results) {
      for (std::size_t t = 0; t < point.setting.num_tests(); ++t) {
        std::vector<Cell> row = {m.d};
        if (general) {
          row.emplace_back(point.setting.train->spec());
          row.emplace_back(point.setting.tests[t].spec());
        }
        row.insert(row.end(), {m.alpha, m.kappa, m.tau, m.rho, r.lambda, o.repeats, r.icl_mean[t], r.icl_std[t],
                               r.idg_mean, r.idg_std});
        if (o.with_theory) {
          if (general) {
            row.emplace_back(general_theory[t].e_icl);
            row.emplace_back(general_idg);
          } else {
            const theory::IsotropicPoint p{m.alpha, m.tau, m.kappa, m.rho, r.lambda};
            row.emplace_back(theory::icl_error(p));
            row.emplace_back(theory::idg_error(p));
          }
        }
        row.insert(row.end(), {m.context_length(), m.num_tasks(), m.num_contexts(), to_string(m.task_norm),
                               to_string(m.assignment), static_cast<long>(seed)});
        table.add_row(std::move(row));
      }
      nlohmann::json entry = m.to_json();
      if (general) entry["ctrain"] = point.setting.train->spec();
      entry["lambda"] = r.lambda;
      entry["solver"] = nlohmann::json::array();
      for (const auto& rep : r.repetitions) entry["solver"].push_back(rep.report.to_json());
      reports.push_back(std::move(entry));
    }
  }
  progress.finish();
  info.extra["points"] = std::move(reports);
  if (o.with_theory)
    info.extra["theory"] = general ? "task-alignment theory (Letey et al.), ridgeless lambda -> 0+, d -> inf"
                                   : "isotropic theory (d -> inf) at the simulation's lambda";
  if (general)
    info.extra["tasks"] = "pretraining t ~ N(0, C_train) (sphere: rescaled to ||t||^2 = tr C_train); "
                          "ICL test t ~ N(0, C_test)";
  emit(table, info, o.output);
}

}  // namespace

Runner add_simulate_command(CLI::App& app) {
  auto o = std::make_shared<SimulateOptions>();
  CLI::App* cmd = app.add_subcommand("simulate", "Fit Gamma* on sampled pretraining data; exact ICL/IDG errors");
  const char* list_help = "a value, a list 0.5,1,2, lin:START:STOP:COUNT or log:START:STOP:COUNT";
  cmd->add_option("--d", o->d, std::string("token dimension (integer >= 2): ") + list_help)->required();
  cmd->add_option("--alpha", o->alpha, std::string("context length ratio, l = int(alpha d): ") + list_help)
      ->required();
  cmd->add_option("--tau", o->tau, std::string("pretraining contexts ratio n/d^2: ") + list_help)->required();
  cmd->add_option("--kappa", o->kappa, std::string("task diversity, k = int(kappa d) (inf allowed): ") + list_help)
      ->required();
  cmd->add_option("--rho", o->rho, std::string("label-noise variance: ") + list_help)->required();
  cmd->add_option("--lambda", o->lambda,
                  std::string("ridge, (n/d) lambda ||Gamma||^2; a list reuses each draw: ") + list_help);
  cmd->add_option("--repeats", o->repeats, "independent draws per point (>= 1)");
  cmd->add_option("--seed", o->seed,
                  "seed, an integer in [0, 2^63) (results depend only on seed, point and repetition)");
  cmd->add_option("--task-norm", o->task_norm, "gaussian (w ~ N(0,I), default) | sphere (||w|| = sqrt(d))");
  cmd->add_option("--assignment", o->assignment, "random (default) | balanced (authors' code)");
  cmd->add_option("--solver", o->solver,
                  "auto (default: chosen from n, p and memory) | direct (dense normal equations) | cg (matrix-free "
                  "preconditioned CG) | dual (n x n kernel)");
  cmd->add_option("--device", o->device,
                  "cpu | cuda | cuda:N: fit with the tensor solver (libtorch, float64) there; default: the Eigen "
                  "solvers on the CPU. Sampling stays on the CPU");
  cmd->add_option("--ctrain", o->ctrain, "pretraining task covariance spec (e.g. power:0.9); default: isotropic");
  cmd->add_option("--ctest", o->ctest, "ICL test covariance specs separated by ';' (one row each)");
  cmd->add_option("--error-form", o->error_form,
                  "exact (default) | asymptotic (drops the O(1/l) terms, as Letey et al.'s code)");
  cmd->add_flag("--with-theory", o->with_theory, "add the asymptotic theory columns");
  o->output.add_to(*cmd);
  return [o](const std::string& line) { run_simulate(*o, line); };
}

}  // namespace iclab::cli

// `iclab simulate`: Gamma* fits on sampled pretraining data, with exact ICL/IDG test errors.

#include "commands.hpp"
#include "iclab/experiments/command_tables.hpp"
#include "iclab/experiments/simulate.hpp"
#include "iclab/io/progress.hpp"
#include "iclab/params/model_params.hpp"
#include "iclab/params/value_list.hpp"
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

void run_simulate(const SimulateOptions& o, const std::string& command_line) {
  check_output_target(o.output);
  SimulationRequest request;
  request.repeats = o.repeats;
  const auto ds = parse_integer_list(o.d, "--d");
  const auto alphas = parse_value_list(o.alpha, "--alpha");
  const auto kappas = parse_value_list(o.kappa, "--kappa", {.allow_infinity = true});
  const auto taus = parse_value_list(o.tau, "--tau");
  const auto rhos = parse_value_list(o.rho, "--rho");
  request.lambdas = parse_value_list(o.lambda, "--lambda");
  request.seed = parse_seed(o.seed, "--seed");
  const TaskNorm norm = parse_task_norm(o.task_norm);
  const Assignment assignment = parse_assignment(o.assignment);
  const ErrorForm form = parse_error_form(o.error_form);
  const auto solver = make_solver(o.solver, o.device, "--device");
  request.solver = solver.get();
  request.general = !o.ctrain.empty() || !o.ctest.empty();
  request.with_theory = o.with_theory;

  // Covariances depend on d only: parse (and eigendecompose) them once per d, not once per grid point.
  for (long d : ds) {
    if (d < 2) throw InvalidArgument("--d: must be an integer >= 2, got " + std::to_string(d));
    TaskSetting& setting = request.settings[d];
    setting.form = form;
    if (request.general) {
      setting.train = parse_covariance(o.ctrain.empty() ? "iso" : o.ctrain, d, "--ctrain");
      setting.tests = parse_covariance_list(o.ctest.empty() ? "iso" : o.ctest, d, "--ctest");
    }
  }
  const GridIndex grid({ds.size(), alphas.size(), kappas.size(), taus.size(), rhos.size()});
  for (std::size_t i = 0; i < grid.size(); ++i) {
    const auto ix = grid.at(i);
    ModelParams& m = request.points.emplace_back();
    m.d = ds[ix[0]];
    m.alpha = alphas[ix[1]];
    m.kappa = kappas[ix[2]];
    m.tau = taus[ix[3]];
    m.rho = rhos[ix[4]];
    m.task_norm = norm;
    m.assignment = assignment;
  }
  validate(request);  // every point, before the progress bar or any work

  ProgressBar progress("simulate", static_cast<long>(request.points.size()) * o.repeats);
  CommandTable result = simulation_table(request, [&progress] { progress.advance(); });
  progress.finish();
  RunInfo info;
  info.command_line = command_line;
  info.extra["seed"] = request.seed;
  info.extra["error_form"] = o.error_form;
  if (!o.device.empty()) info.extra["device"] = o.device;
  info.extra.update(result.meta);
  emit(result.table, info, o.output);
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

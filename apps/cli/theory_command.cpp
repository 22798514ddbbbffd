// `iclab theory`: the asymptotic isotropic theory on a product grid.
#include <cmath>

#include "alignment_commands.hpp"
#include "commands.hpp"
#include "iclab/error.hpp"
#include "iclab/experiments/command_tables.hpp"
#include "iclab/io/progress.hpp"
#include "iclab/params/value_list.hpp"
#include "iclab/theory/isotropic.hpp"
#include "output.hpp"

namespace iclab::cli {
namespace {

struct TheoryOptions {
  std::string alpha, tau, kappa, rho, lambda = "0", alpha_min;
  GeneralTheoryOptions general;  // --d, --ctrain, --ctest, --alpha-test
  OutputOptions output;
};

void run_theory(const TheoryOptions& o, const std::string& command_line) {
  if (o.general.requested()) {
    if (!o.alpha_min.empty()) throw InvalidArgument("--alpha-min: only for the isotropic theory (no --ctrain/--ctest)");
    GeneralTheoryOptions general = o.general;
    general.alpha = o.alpha;
    general.tau = o.tau;
    general.kappa = o.kappa;
    general.rho = o.rho;
    general.lambda = o.lambda;
    general.output = o.output;
    run_general_theory(general, command_line);
    return;
  }
  if (!o.general.alpha_test.empty())
    throw InvalidArgument("--alpha-test: needs the task-alignment theory (--ctrain/--ctest)");
  check_output_target(o.output);
  const bool minimise = !o.alpha_min.empty();
  const auto what = minimise ? theory::parse_observable(o.alpha_min) : theory::Observable::icl;
  if (!minimise && o.alpha.empty()) throw InvalidArgument("--alpha: required (a value or a list)");
  const auto alphas = minimise ? std::vector<double>{1.0} : parse_value_list(o.alpha, "--alpha");
  const auto taus = parse_value_list(o.tau, "--tau");
  const auto kappas = parse_value_list(o.kappa, "--kappa", {.allow_infinity = true});
  const auto rhos = parse_value_list(o.rho, "--rho");
  const auto lambdas = parse_value_list(o.lambda, "--lambda");
  const GridIndex grid({alphas.size(), taus.size(), kappas.size(), rhos.size(), lambdas.size()});
  std::vector<theory::IsotropicPoint> points;
  for (std::size_t i = 0; i < grid.size(); ++i) {
    const auto ix = grid.at(i);
    const theory::IsotropicPoint p{alphas[ix[0]], taus[ix[1]], kappas[ix[2]], rhos[ix[3]], lambdas[ix[4]]};
    theory::validate(p, !minimise);
    points.push_back(p);
  }

  RunInfo info;
  info.command_line = command_line;
  // Large alpha-min grids take seconds.
  ProgressBar progress(minimise ? "alpha-min" : "theory", static_cast<long>(points.size()));
  auto advance = [&progress] { progress.advance(); };
  CommandTable result = minimise ? alpha_min_table(what, points, advance) : isotropic_theory_table(points, advance);
  progress.finish();
  info.extra.update(result.meta);
  emit(result.table, info, o.output);
}

}  // namespace

Runner add_theory_command(CLI::App& app) {
  auto options = std::make_shared<TheoryOptions>();
  CLI::App* cmd = app.add_subcommand(
      "theory", "Asymptotic ICL/IDG error: isotropic (Lu et al.), or with --ctrain/--ctest (Letey et al.)");
  const char* list_help = "a value, a list 0.5,1,2, lin:START:STOP:COUNT or log:START:STOP:COUNT";
  cmd->add_option("--alpha", options->alpha, std::string("context length ratio l/d: ") + list_help);
  cmd->add_option("--tau", options->tau, std::string("pretraining contexts ratio n/d^2: ") + list_help)->required();
  cmd->add_option("--kappa", options->kappa, std::string("task diversity k/d (inf allowed): ") + list_help)
      ->required();
  cmd->add_option("--rho", options->rho, std::string("label-noise variance: ") + list_help)->required();
  cmd->add_option("--lambda", options->lambda, std::string("ridge (0 = ridgeless): ") + list_help);
  cmd->add_option("--alpha-min", options->alpha_min,
                  "icl|idg: report the alpha minimising that error (empty if monotone) instead of errors");
  add_general_theory_options(*cmd, options->general);
  options->output.add_to(*cmd);
  return [options](const std::string& line) { run_theory(*options, line); };
}

}  // namespace iclab::cli

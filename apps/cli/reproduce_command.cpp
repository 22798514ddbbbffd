// `iclab reproduce`: one command per figure of the two linear-model papers (experiments + plot).
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>

#include "commands.hpp"
#include "iclab/error.hpp"
#include "iclab/experiments/experiment.hpp"
#include "iclab/experiments/runner.hpp"
#include "iclab/experiments/schema.hpp"
#include "iclab/reproduce/presets.hpp"
#include "preset_registry.hpp"
#include "stop_signals.hpp"

namespace iclab::cli {
namespace {

struct ReproduceOptions {
  std::string name, out, reference_data, scale, device;
  bool list = false, quick = false, plot_only = false;
  double snapshot_every = RunOptions{}.snapshot_every;
};

// The experiment text with `device = "DEVICE"` first in its [parameters] table (a table added when it has
// none), so that the experiment.toml written beside the results reruns on the same device.
std::string with_device(const std::string& toml, const std::string& device) {
  const std::string line = "device = \"" + device + "\"\n";
  const std::string header = "[parameters]\n";
  std::size_t at = toml.rfind(header, 0) == 0 ? 0 : toml.find("\n" + header);
  if (at == std::string::npos) return toml + (toml.empty() || toml.back() == '\n' ? "" : "\n") + header + line;
  at += at == 0 ? header.size() : header.size() + 1;
  return toml.substr(0, at) + line + toml.substr(at);
}

// --device: the simulation and transformer experiments run there; one that sets another device itself
// is refused rather than silently moved.
void apply_device(PresetExperiment& e, Experiment& parsed, const std::string& device, const std::string& source) {
  // The quantities that take a `device` (schema.hpp): the simulation's fit, the networks' training.
  const KeySpec* key = experiment_schema().find_key("device");
  if (!key || std::none_of(parsed.compute.begin(), parsed.compute.end(),
                           [&](const std::string& q) { return ExperimentSchema::accepts(*key, q); }))
    return;
  if (parsed.sets("device")) {
    const auto it = parsed.fixed.find("device");
    const bool same = it != parsed.fixed.end() && std::get<std::string>(it->second.front()) == device;
    if (!same) throw InvalidArgument("--device: " + parsed.where("device") + " sets its own device");
    return;
  }
  e.toml = with_device(e.toml, device);
  parsed = parse_experiment(e.toml, source);
}

// A figure's run, checked: every experiment parsed (nothing is written unless all of them are valid).
struct ReproducePlan {
  const Preset* preset = nullptr;
  std::string scale, dir;
  std::vector<std::pair<Experiment, PresetExperiment>> experiments;
};

ReproducePlan plan_reproduce(const ReproduceOptions& o) {
  if (o.name.empty()) throw InvalidArgument("NAME: give a figure name (see `iclab reproduce --list`)");
  (void)checked_snapshot_every(o.snapshot_every);
  ReproducePlan plan;
  const Preset& preset = *(plan.preset = &find_preset(o.name, all_presets()));
  // --scale: a figure folder figures/NAME/SCALE (preset_experiments); cpu by default.
  const std::string scale = o.quick ? "quick" : o.scale.empty() ? "cpu" : o.scale;
  if (o.quick && !o.scale.empty() && o.scale != "quick")
    throw InvalidArgument("--scale: --quick is --scale quick; give one of them");
  plan.scale = scale;
  std::vector<PresetExperiment> sources = preset_experiments(preset, scale);
  if (!o.reference_data.empty() && !std::filesystem::is_directory(o.reference_data))
    throw InvalidArgument("--reference-data: '" + o.reference_data + "' is not a directory");
  plan.dir = !o.out.empty() ? o.out : "reproduce/" + preset.name + (scale == "cpu" ? "" : "-" + scale);
  for (PresetExperiment& e : sources) {
    const std::string source = preset.name + "/" + e.name + ".toml";
    Experiment parsed = parse_experiment(e.toml, source);
    if (!o.device.empty()) apply_device(e, parsed, o.device, source);
    plan.experiments.emplace_back(std::move(parsed), std::move(e));
  }
  return plan;
}

// What of the command needs the neural-network module (main() hands it to `iclab-nn`): an experiment
// that a module evaluates (a folder-only figure may train). Every program lists every figure and draws
// its plot (--plot-only): the plots are torch-free (iclab_modules).
ModuleNeed reproduce_module_need(const ReproduceOptions& o) {
  if (o.list) return {};
  const ReproducePlan plan = plan_reproduce(o);  // validated here, as the run would
  if (o.plot_only) return {};
  for (const auto& [experiment, source] : plan.experiments)
    if (std::string use = module_use(experiment); !use.empty()) return {use, true};
  return {};
}

void run_reproduce(const ReproduceOptions& o, const std::string& command_line) {
  if (o.list) {
    for (const Preset& p : all_presets()) std::printf("%-20s %s\n", p.name.c_str(), p.description.c_str());
    return;
  }
  const auto start = std::chrono::steady_clock::now();
  // A device is checked first.
  if (!o.device.empty()) (void)make_solver("auto", o.device, "--device");
  const ReproducePlan plan = plan_reproduce(o);
  const Preset& preset = *plan.preset;
  const std::string& dir = plan.dir;
  const std::string& scale = plan.scale;
  const bool quick = scale == "quick";
  if (!o.plot_only) {
    for (const auto& [experiment, source] : plan.experiments) (void)make_evaluator(experiment);
    catch_stop_signals();
    for (const auto& [experiment, source] : plan.experiments) {
      RunOptions options;
      options.out_dir = dir + "/" + source.name;
      options.experiment_text = source.toml;
      options.command_line = command_line;
      options.evaluator = make_evaluator;
      options.snapshot_every = o.snapshot_every;
      options.checkpoint = throw_if_stop_requested;
      const RunSummary s = run_experiment(experiment, options);
      std::fprintf(stderr, "iclab reproduce: %s: %zu points, %.1f s -> %s\n", source.name.c_str(), s.points_in_shard,
                   s.seconds, s.results_path.c_str());
    }
  }
  preset.plot(dir, PlotOptions{quick, o.reference_data});
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::fprintf(stderr, "iclab reproduce: %s (%s scale) in %.1f s -> %s/%s.png (.svg, .gp)\n", preset.name.c_str(),
               scale.c_str(), seconds, dir.c_str(), preset.name.c_str());
}

}  // namespace

Command add_reproduce_command(CLI::App& app) {
  auto o = std::make_shared<ReproduceOptions>();
  CLI::App* cmd = app.add_subcommand("reproduce", "Reproduce a figure of the papers: experiments, CSVs and plots");
  cmd->add_option("NAME", o->name, "figure name (see --list)");
  cmd->add_flag("--list", o->list, "list the figures");
  cmd->add_flag("--quick", o->quick, "reduced d, repetitions and grids (under a minute): --scale quick");
  cmd->add_option("--scale", o->scale,
                  "quick | cpu (default: the papers' parameters, or for the Transformer figures a CPU scale) | paper "
                  "(the Transformer figures at the papers' scale, for a GPU: figures/NAME/paper)");
  cmd->add_option("--out", o->out, "output directory (default: reproduce/NAME, or reproduce/NAME-quick)");
  cmd->add_option("--device", o->device,
                  "cpu | cuda | cuda:N: run the simulations' fits (the tensor solver) and the Transformers there "
                  "(written into each experiment file as `device`)");
  cmd->add_flag("--plot-only", o->plot_only, "redraw the plot from existing results");
  add_snapshot_option(cmd, o->snapshot_every);
  cmd->add_option("--reference-data", o->reference_data,
                  "directory with the authors' published numbers (e.g. ../shared/reference-data): overlaid as black "
                  "markers where a figure has them (lu2024-fig1, letey2025-fig6)");
  return {[o](const std::string& line) { run_reproduce(*o, line); }, [o] { return reproduce_module_need(*o); }};
}

}  // namespace iclab::cli

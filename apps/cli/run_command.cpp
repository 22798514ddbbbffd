// `iclab run EXPERIMENT.toml` (crash-safe, resumable, shardable sweeps) and `iclab merge DIR...`.
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <stdexcept>
#include <utility>

#include "commands.hpp"
#include "iclab/experiments/experiment.hpp"
#include "iclab/experiments/runner.hpp"
#include "iclab/io/atomic_file.hpp"
#include "iclab/io/table.hpp"
#include "iclab/io/text_file.hpp"
#include "iclab/params/model_params.hpp"
#include "output.hpp"
#include "preset_registry.hpp"
#include "stop_signals.hpp"

namespace iclab::cli {
namespace {

struct RunCommandOptions {
  std::string experiment, out, shard = "0/1";
  bool quiet = false;
  double snapshot_every = RunOptions{}.snapshot_every;
};

// The experiment file and its text; InvalidArgument when it cannot be read or is invalid.
std::pair<Experiment, std::string> load_run_experiment(const RunCommandOptions& o) {
  (void)checked_snapshot_every(o.snapshot_every);
  if (std::filesystem::is_directory(o.experiment))  // `iclab run DIR` said "name: missing"
    throw InvalidArgument("EXPERIMENT: '" + o.experiment + "' is a directory, not an experiment file (to rerun " +
                          "an output directory, give its experiment.toml: " +
                          (std::filesystem::path(o.experiment) / "experiment.toml").string() + ")");
  const auto text = read_text_file(o.experiment);
  if (!text) throw InvalidArgument("EXPERIMENT: cannot read '" + o.experiment + "'");
  return {parse_experiment(*text, o.experiment), *text};
}

void run_run(const RunCommandOptions& o, const std::string& command_line) {
  const auto [experiment, text] = load_run_experiment(o);
  RunOptions options;
  options.shard = parse_shard(o.shard);
  options.out_dir = !o.out.empty() ? o.out : !experiment.output.empty() ? experiment.output : experiment.name;
  options.experiment_text = text;
  options.command_line = command_line;
  options.progress = !o.quiet;
  options.evaluator = make_evaluator;
  options.snapshot_every = checked_snapshot_every(o.snapshot_every);
  catch_stop_signals();
  options.checkpoint = throw_if_stop_requested;
  const RunSummary s = run_experiment(experiment, options);
  if (!o.quiet)
    std::fprintf(stderr, "iclab run: %s: %zu of %zu points (%zu found finished), %zu rows, %.1f s -> %s\n",
                 experiment.name.c_str(), s.points_in_shard, s.points_total, s.points_resumed, s.rows, s.seconds,
                 s.results_path.c_str());
}

struct MergeOptions {
  std::vector<std::string> dirs;
  std::string out;
  bool allow_missing = false;
};

void run_merge(const MergeOptions& o, const std::string&) {
  if (!o.out.empty()) {
    const std::filesystem::path target(o.out);
    const auto parent = target.has_parent_path() ? target.parent_path() : std::filesystem::path(".");
    if (!std::filesystem::is_directory(parent))
      throw InvalidArgument("--out: directory '" + parent.string() + "' does not exist");
    require_replaceable(o.out, "--out");  // a directory, link, FIFO or device: refused before the merge
    require_writable_directory(parent.string(), "--out");
  }
  // Only the columns, which every module gives without torch: merge runs in `iclab` itself.
  const MergeResult merged = merge_results(o.dirs, result_columns);
  if (!merged.missing.empty()) {
    std::fprintf(stderr, "iclab merge: %zu of %zu points missing: %s\n", merged.missing.size(), merged.points_total,
                 describe_points(merged.missing).c_str());
    if (!o.allow_missing) throw std::runtime_error("points missing (rerun their shards, or pass --allow-missing)");
  }
  if (o.out.empty()) {
    write_stdout(merged.csv);
  } else {
    write_file_atomically(o.out, merged.csv);
  }
}

}  // namespace

void add_snapshot_option(CLI::App* command, double& seconds) {
  command
      ->add_option("--snapshot-every", seconds,
                   "SECONDS: save a long group's work (a Transformer ensemble's training) at most this often, so "
                   "that a killed run resumes inside the group; 0: never")
      ->capture_default_str();
}

double checked_snapshot_every(double seconds) {
  if (!std::isfinite(seconds) || seconds < 0)
    throw InvalidArgument("--snapshot-every: must be a number of seconds >= 0 (0: no snapshots), got " +
                          format_number(seconds));
  return seconds;
}

Command add_run_commands(CLI::App& app) {
  auto r = std::make_shared<RunCommandOptions>();
  CLI::App* run = app.add_subcommand("run", "Run an experiment file (TOML): crash-safe, resumable, shardable");
  run->add_option("EXPERIMENT", r->experiment, "experiment file (format: docs/experiments.md)")->required();
  run->add_option("--out", r->out, "output directory (default: the file's `output`, else its `name`)");
  run->add_option("--shard", r->shard,
                  "I/N: run only the points with index % N == I (0 <= I < N), e.g. $SLURM_ARRAY_TASK_ID/16");
  run->add_flag("--quiet", r->quiet, "no progress bar or summary on stderr");
  add_snapshot_option(run, r->snapshot_every);
  auto m = std::make_shared<MergeOptions>();
  CLI::App* merge = app.add_subcommand("merge", "Combine the results of shards (same experiment) into one CSV");
  merge->add_option("DIR", m->dirs, "output directories of `iclab run` (their shards' results)")->required();
  merge->add_option("--out", m->out, "write the merged CSV to FILE atomically (default: stdout)");
  merge->add_flag("--allow-missing", m->allow_missing, "write the points found even when some are missing");
  Command command;
  command.run = [run, merge, r, m](const std::string& line) {
    if (run->parsed()) run_run(*r, line);
    if (merge->parsed()) run_merge(*m, line);
  };
  command.needs_module = [run, r]() -> ModuleNeed {  // merge reads only columns: never
    if (run->parsed()) return {module_use(load_run_experiment(*r).first), true};
    return {};
  };
  return command;
}

}  // namespace iclab::cli

// Subcommands of the iclab front end. Each registers its options and returns the callback that runs it.
#pragma once

#include <CLI/CLI.hpp>
#include <functional>
#include <string>

#include "nn_handover.hpp"

namespace iclab::cli {

using Runner = std::function<void(const std::string& command_line)>;
// Evaluated by main() after parsing, before running: what of the command needs the neural-network
// module (nn_handover.hpp). It validates what it reads (InvalidArgument) and writes nothing.
using ModuleCheck = std::function<ModuleNeed()>;
struct Command {
  Runner run;
  ModuleCheck needs_module;
};

Runner add_theory_command(CLI::App& app);
Runner add_simulate_command(CLI::App& app);
Runner add_alignment_commands(CLI::App& app);  // align, heatmap, kspectrum
Runner add_plot_command(CLI::App& app);
Command add_run_commands(CLI::App& app);  // run, merge
// --snapshot-every SECONDS of `run` and `reproduce`: the longest stretch of a group's work (a Transformer
// ensemble's training) that a kill may lose (experiments/runner.hpp, results{S}.snapshot*).
void add_snapshot_option(CLI::App* command, double& seconds);
// `seconds` if it is a finite number >= 0, else InvalidArgument naming --snapshot-every.
double checked_snapshot_every(double seconds);
Command add_reproduce_command(CLI::App& app);
Runner add_schema_command(CLI::App& app);  // the experiment schema, as JSON or docs/schema.md
// repr gap (torch-free: every program), repr train (only with the neural-network module)
Runner add_repr_command(CLI::App& app);
#ifdef ICLAB_HAVE_NN
Runner add_train_command(CLI::App& app);  // train (Transformers, libtorch)
#endif

}  // namespace iclab::cli

// Subcommands of the iclab front end. Each registers its options and returns the callback that runs it.
#pragma once

#include <functional>
#include <string>

#include <CLI/CLI.hpp>

namespace iclab::cli {

using Runner = std::function<void(const std::string& command_line)>;

Runner add_theory_command(CLI::App& app);
Runner add_simulate_command(CLI::App& app);
Runner add_alignment_commands(CLI::App& app);  // align, heatmap, kspectrum
Runner add_plot_command(CLI::App& app);
Runner add_run_commands(CLI::App& app);        // run, merge
Runner add_reproduce_command(CLI::App& app);
#ifdef ICLAB_HAVE_NN
Runner add_repr_command(CLI::App& app);  // repr train, repr gap
Runner add_train_command(CLI::App& app);  // train (Transformers, libtorch)
#endif

}  // namespace iclab::cli

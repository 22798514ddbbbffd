// iclab command-line front end: parses, validates (exit 2 on bad input, before any output),
// runs one subcommand and writes its table.
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <exception>
#include <iostream>
#include <map>
#include <new>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <vector>

#include "commands.hpp"
#include "iclab/cancel.hpp"
#include "iclab/error.hpp"
#include "iclab/linalg/dense.hpp"
#include "iclab/version.hpp"
#ifdef ICLAB_HAVE_NN
#include "iclab/nn/torch_errors.hpp"
#endif
#include "nn_handover.hpp"
#include "stop_signals.hpp"

namespace {

std::string join_command_line(int argc, char** argv) {
  std::string line;
  for (int i = 0; i < argc; ++i) {
    if (i) line += ' ';
    const std::string arg = argv[i];
    line += arg.find_first_of(" ;\"'") == std::string::npos ? arg : "'" + arg + "'";
  }
  return line;
}

// One line, whatever the exception carried.
std::string first_line(const std::string& text) { return text.substr(0, text.find('\n')); }

// The line reporting a failure: libtorch's own errors in iclab's words (iclab/nn/torch_errors.hpp), never
// c10's text; any other exception's first line.
std::string failure_line(const std::exception& e) {
#ifdef ICLAB_HAVE_NN
  if (auto text = iclab::nn::describe_torch_error(e)) return *text;
#endif
  // What no memory estimate foresaw; "std::bad_alloc" alone says nothing to the user.
  if (dynamic_cast<const std::bad_alloc*>(&e)) return "out of memory: ask for less (smaller sizes or counts)";
  return first_line(e.what());
}

// Levenshtein distance, for suggesting the command meant by a misspelt one.
std::size_t edit_distance(const std::string& a, const std::string& b) {
  std::vector<std::size_t> row(b.size() + 1);
  for (std::size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (std::size_t i = 1; i <= a.size(); ++i) {
    std::size_t diagonal = row[0];
    row[0] = i;
    for (std::size_t j = 1; j <= b.size(); ++j) {
      const std::size_t above = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diagonal + (a[i - 1] == b[j - 1] ? 0 : 1)});
      diagonal = above;
    }
  }
  return row[b.size()];
}

// A first argument that is no option and no command (`iclab theroy`) is named, with the closest command,
// instead of CLI11's "A subcommand is required".
void check_command_name(const CLI::App& app, const std::string& first, const std::vector<std::string>& extra) {
  if (first.empty() || first.front() == '-') return;
  std::vector<std::string> names = extra;
  for (const CLI::App* sub : app.get_subcommands({})) names.push_back(sub->get_name());
  if (std::find(names.begin(), names.end(), first) != names.end()) return;
  std::string best;
  std::size_t best_distance = 3;  // suggest only a close name
  for (const std::string& name : names)
    if (const std::size_t d = edit_distance(first, name); d < best_distance) best = name, best_distance = d;
  throw iclab::InvalidArgument("'" + first + "' is not an iclab command" +
                               (best.empty() ? std::string() : "; did you mean '" + best + "'?") +
                               " (iclab --help lists them)");
}

// The one hand-over point (nn_handover.hpp): replaces this process by `iclab-nn` with the same
// arguments. Without it, a required need fails as bad input; an optional one runs here.
void hand_over(char** argv, const iclab::cli::ModuleNeed& need) {
  if (need.what.empty() || iclab::cli::has_nn_module()) return;
  if (!iclab::cli::nn_program_available()) {
    if (!need.required) return;
    throw iclab::InvalidArgument(need.what + ": needs iclab built with -DICLAB_NN=ON (libtorch)");
  }
  const std::string program = iclab::cli::nn_program().string();
  std::fflush(nullptr);
  execv(program.c_str(), argv);
  throw std::runtime_error("cannot run " + program + ": " + std::strerror(errno));
}

// What of a parsed subcommand needs the neural-network module: a `--device` (the tensor solver, or
// the networks) or what the command's own check finds (an experiment's quantities and keys).
iclab::cli::ModuleNeed module_need(const CLI::App& sub, const iclab::cli::ModuleCheck& check) {
  if (const CLI::Option* device = sub.get_option_no_throw("--device"); device && device->count() > 0)
    if (!device->as<std::string>().empty()) return {"--device", true};
  return check ? check() : iclab::cli::ModuleNeed{};
}

}  // namespace

int main(int argc, char** argv) {
  // iclab parallelises with OpenMP over fixed partitions; threaded OpenBLAS would make the last bits
  // of results depend on the thread count.
  iclab::set_blas_threads(1);
  // Training and large fits free and reallocate the same big buffers over and over.
  iclab::retain_freed_memory(1L << 30);
  CLI::App app{"iclab: the exactly solvable theory of in-context learning, and its simulations"};
  app.require_subcommand(1);
  app.set_version_flag("--version", std::string(iclab::version()) + " (" + std::string(iclab::git_describe()) + ")");
  std::map<CLI::App*, iclab::cli::Command> commands;
  auto add = [&](auto adder) {
    const auto before = app.get_subcommands({});
    iclab::cli::Command command;
    if constexpr (std::is_same_v<decltype(adder(app)), iclab::cli::Command>)
      command = adder(app);
    else
      command.run = adder(app);
    for (CLI::App* sub : app.get_subcommands({}))
      if (std::find(before.begin(), before.end(), sub) == before.end()) commands[sub] = command;
  };
  add(iclab::cli::add_theory_command);
  add(iclab::cli::add_simulate_command);
  add(iclab::cli::add_alignment_commands);
  add(iclab::cli::add_plot_command);
  add(iclab::cli::add_run_commands);
  add(iclab::cli::add_reproduce_command);
  add(iclab::cli::add_repr_command);
  add(iclab::cli::add_schema_command);
#ifdef ICLAB_HAVE_NN
  add(iclab::cli::add_train_command);
#else
  if (iclab::cli::nn_program_available())
    app.footer(
        "Neural-network commands (libtorch), run by iclab-nn beside this program:\n"
        "  train        Train a Transformer on ICL regression and test it (iclab train --help)\n"
        "  repr train   Train Yang et al.'s one-layer attention (iclab repr train --help)");
#endif

  try {
    // The neural-network module's own commands, which this program lacks, go to `iclab-nn` at once
    // (see nn_handover.hpp): `train`, and `repr` but for `repr gap`, which needs no torch and runs here
    // (`iclab repr --help` shows both subcommands where `iclab-nn` exists); any other command after
    // parsing, when it needs the module.
    const std::string first = argc > 1 ? argv[1] : "";
    const std::string second = argc > 2 ? argv[2] : "";
    if (!iclab::cli::has_nn_module()) {
      if (first == "train") hand_over(argv, {first, true});
      if (first == "repr" && second != "gap") hand_over(argv, {first + " " + second, second == "train"});
    }
    check_command_name(app, first, {"train", "repr"});
    app.parse(argc, argv);
    if (!iclab::cli::has_nn_module())
      for (CLI::App* sub : app.get_subcommands()) hand_over(argv, module_need(*sub, commands.at(sub).needs_module));
  } catch (const CLI::Success& e) {  // --help, --version
    const int code = app.exit(e);
    if (std::fflush(stdout) != 0 || std::ferror(stdout) || !std::cout) {
      std::fprintf(stderr, "iclab: error: stdout: write failed\n");
      return 1;
    }
    return code;
  } catch (const iclab::InvalidArgument& e) {
    std::fprintf(stderr, "iclab: error: %s\n", first_line(e.what()).c_str());
    return 2;
  } catch (const CLI::ParseError& e) {
    std::fprintf(stderr, "iclab: error: %s\n", first_line(e.what()).c_str());
    return 2;
  } catch (const std::exception& e) {  // e.g. `iclab-nn` could not be run
    std::fprintf(stderr, "iclab: error: %s\n", first_line(e.what()).c_str());
    return 1;
  }
  for (CLI::App* sub : app.get_subcommands()) {
    try {
      commands.at(sub).run(join_command_line(argc, argv));
    } catch (const iclab::Cancelled&) {  // SIGTERM or SIGINT (stop_signals.hpp): what is done stays
      const int signal = iclab::cli::stop_signal();
      std::fprintf(stderr,
                   "iclab: stopped by %s; finished points and snapshots are kept: rerun the same command "
                   "to resume\n",
                   signal == SIGINT ? "SIGINT" : "SIGTERM");
      return 128 + signal;
    } catch (const iclab::InvalidArgument& e) {
      std::fprintf(stderr, "iclab: error: %s\n", first_line(e.what()).c_str());
      return 2;
    } catch (const std::exception& e) {
      std::fprintf(stderr, "iclab: error: %s\n", failure_line(e).c_str());
      return 1;
    }
  }
  // Whatever a command printed must have reached stdout (a full disk or closed pipe is a failure).
  if (std::fflush(stdout) != 0 || std::ferror(stdout) || !std::cout) {
    std::fprintf(stderr, "iclab: error: stdout: write failed\n");
    return 1;
  }
  return 0;
}

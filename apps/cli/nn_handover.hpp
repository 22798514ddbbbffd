// The command line comes as two programs built from the same sources: `iclab`, without libtorch, which
// starts in milliseconds, and `iclab-nn`, with the neural-network module (loading libtorch costs about
// 0.6 s and 160 MB per process: too much for `iclab theory` in a shell loop). `iclab` hands a command
// that needs the module over to `iclab-nn` (exec, same arguments) at one point, in main(), after parsing
// and validating and before any work or output, like git's `git-<cmd>` dispatch. Each command says what
// of it needs the module (ModuleNeed); nothing in the commands, the runner or the libraries execs.
#pragma once

#include <filesystem>
#include <string>

namespace iclab::cli {

// Whether this program has the neural-network module, and whether `iclab-nn` sits beside it.
bool has_nn_module();
bool nn_program_available();
std::filesystem::path nn_program();  // `iclab-nn` beside this program

// What of a parsed command needs the module: `what` names it for messages ("compute: 'transformer'",
// "--device", "exp.toml:5: parameters.device"); empty: nothing. `required`: without `iclab-nn` the
// command fails with "WHAT: needs iclab built with -DICLAB_NN=ON (libtorch)"; otherwise (e.g. listing
// every figure) it runs here when `iclab-nn` is missing.
struct ModuleNeed {
  std::string what;
  bool required = true;
};

}  // namespace iclab::cli

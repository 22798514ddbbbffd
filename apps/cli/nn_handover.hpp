// The command line comes as two programs built from the same sources: `iclab`, without libtorch, which
// starts in milliseconds, and `iclab-nn`, with the neural-network module (loading libtorch costs about
// 0.6 s and 160 MB per process: too much for `iclab theory` in a shell loop). `iclab` hands a command
// that needs the module over to `iclab-nn` (exec, same arguments) before writing anything.
#pragma once

#include <string>

namespace iclab::cli {

void remember_command_line(int argc, char** argv);  // main() calls it first
// Whether this program has the neural-network module, and whether `iclab-nn` sits beside it.
bool has_nn_module();
bool nn_program_available();
// Replaces this process by `iclab-nn` with the same arguments. Without it, throws InvalidArgument:
// "WHAT: needs iclab built with -DICLAB_NN=ON (libtorch)".
[[noreturn]] void hand_over_to_nn_program(const std::string& what);

}  // namespace iclab::cli

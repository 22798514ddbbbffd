// libtorch's own errors in iclab's words (issue 14). libtorch fails with c10::Error, whose text
// ("[enforce fail at alloc_cpu.cpp:75] err == 0. DefaultCPUAllocator: ...", "Expected ... but got ...",
// then a C++ backtrace) must never reach the user. This is the one place that words them: `iclab-nn`'s
// main reports every escaped exception through it, and code that adds its own context (the checkpoint
// writer) uses it too. The header is torch-free, so the CLI can include it.
#pragma once

#include <exception>
#include <optional>
#include <string>

namespace iclab::nn {

// One line for a c10::Error, nullopt for any other exception:
//   "out of memory: libtorch could not allocate 48000000000000 bytes (45776367 MiB) ..."
//   "libtorch could not read or write a file: No such file or directory"   (serialization)
//   "libtorch failed on this input, which iclab should have refused: please report the command"
std::optional<std::string> describe_torch_error(const std::exception& error);

}  // namespace iclab::nn

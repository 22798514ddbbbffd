#include "nn_handover.hpp"

#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <stdexcept>
#include <vector>

#include "iclab/error.hpp"

namespace iclab::cli {
namespace {

// The arguments of this process, for the exec (set once by main).
std::vector<char*>& arguments() {
  static std::vector<char*> args;
  return args;
}

std::filesystem::path nn_program() {
  std::error_code ec;
  const auto self = std::filesystem::read_symlink("/proc/self/exe", ec);
  return (ec ? std::filesystem::path(".") : self.parent_path()) / "iclab-nn";
}

}  // namespace

void remember_command_line(int argc, char** argv) { arguments().assign(argv, argv + argc); }

bool has_nn_module() {
#ifdef ICLAB_HAVE_NN
  return true;
#else
  return false;
#endif
}

bool nn_program_available() {
  if (has_nn_module()) return false;
  return access(nn_program().c_str(), X_OK) == 0;
}

void hand_over_to_nn_program(const std::string& what) {
  if (!nn_program_available()) throw InvalidArgument(what + ": needs iclab built with -DICLAB_NN=ON (libtorch)");
  const std::string program = nn_program().string();
  std::vector<char*> argv = arguments();
  argv.push_back(nullptr);
  std::fflush(nullptr);
  execv(program.c_str(), argv.data());
  throw std::runtime_error("cannot run " + program + ": " + std::strerror(errno));
}

}  // namespace iclab::cli

#include "nn_handover.hpp"

#include <unistd.h>

namespace iclab::cli {

std::filesystem::path nn_program() {
  std::error_code ec;
  const auto self = std::filesystem::read_symlink("/proc/self/exe", ec);
  return (ec ? std::filesystem::path(".") : self.parent_path()) / "iclab-nn";
}

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

}  // namespace iclab::cli

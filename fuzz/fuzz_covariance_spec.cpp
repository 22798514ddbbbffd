// libFuzzer target: covariance specifications (covariances/covariance_spec) at a small d. Specs that
// name files are skipped (the file readers have their own target). Any input must either parse into a
// valid covariance or raise iclab::InvalidArgument.
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>

#include "iclab/covariances/covariance_spec.hpp"
#include "iclab/error.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 1) return 0;
  const long d = 1 + data[0] % 8;
  const std::string text(reinterpret_cast<const char*>(data) + 1, size - 1);
  if (text.find("file") != std::string::npos) return 0;
  try {
    for (const iclab::TaskCovariance& c : iclab::parse_covariance_list(text, d, "--fuzz")) {
      if (c.dim() != d || !c.matrix().allFinite() || !c.eigenvalues().allFinite()) std::abort();
      if (c.eigenvalues().minCoeff() < 0.0) std::abort();  // clipped to >= 0 by contract
    }
  } catch (const iclab::InvalidArgument&) {
  }
  return 0;
}

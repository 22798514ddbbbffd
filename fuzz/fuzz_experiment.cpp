// libFuzzer target: experiment files (TOML, experiments/experiment). Any input must either parse or raise
// iclab::InvalidArgument; small grids are also expanded into points.
#include <cstddef>
#include <cstdint>
#include <string>

#include "iclab/error.hpp"
#include "iclab/experiments/experiment.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  try {
    const iclab::Experiment e = iclab::parse_experiment(text, "fuzz.toml");
    if (e.num_points() <= 1000) (void)iclab::expand_points(e);
    (void)e.identity_hash();
  } catch (const iclab::InvalidArgument&) {
  }
  return 0;
}

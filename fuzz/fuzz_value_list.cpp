// libFuzzer target: the command-line value lists and seeds (params/value_list). Any input must either
// parse or raise iclab::InvalidArgument; every other exception, crash or sanitizer report is a defect.
#include <cstddef>
#include <cstdint>
#include <string>

#include "iclab/error.hpp"
#include "iclab/params/value_list.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  try {
    const auto values = iclab::parse_value_list(text, "--fuzz", {.allow_infinity = true});
    (void)iclab::GridIndex({values.size(), values.size(), values.size()}).size();
  } catch (const iclab::InvalidArgument&) {
  }
  try {
    (void)iclab::parse_integer_list(text, "--fuzz");
  } catch (const iclab::InvalidArgument&) {
  }
  try {
    (void)iclab::parse_seed(text, "--fuzz");
  } catch (const iclab::InvalidArgument&) {
  }
  return 0;
}

// Parsing of numeric command-line values: one value, a list "0.5,1,2", "lin:START:STOP:COUNT" or
// "log:START:STOP:COUNT" (geometric spacing between the values START and STOP), and the product grid.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace iclab {

struct ValueListOptions {
  bool allow_infinity = false;  // accept "inf" (e.g. kappa)
};

// Throws InvalidArgument "<option>: ..." on anything unparsable.
std::vector<double> parse_value_list(std::string_view text, std::string_view option,
                                     ValueListOptions options = {});
// Integer-valued list (e.g. d): every value must be an integer.
std::vector<long> parse_integer_list(std::string_view text, std::string_view option);

// A random seed: a decimal integer in [0, 2^63 - 1] (the range of the signed 64-bit seed cells of the
// CSVs and of TOML integers, so every output records the seed it was given). Throws InvalidArgument
// "<option>: ..." on a sign, a fraction, an exponent or a larger value.
std::uint64_t parse_seed(std::string_view text, std::string_view option);

// The most independent repetitions (draws, training seeds) one point may ask for: each is a separate fit,
// and their results are kept, so a count near 2^63 ended in std::bad_alloc instead of a refusal.
inline constexpr long kMaxRepeats = 10'000'000;

// Odometer over the product of axis sizes; the last axis varies fastest.
class GridIndex {
 public:
  static constexpr std::size_t kMaxGridPoints = 100'000'000;
  // Throws InvalidArgument "grid: ..." when the product passes kMaxGridPoints (checked, never wrapped).
  explicit GridIndex(std::vector<std::size_t> sizes);
  std::size_t size() const { return total_; }
  // Per-axis indices of the flat point index.
  std::vector<std::size_t> at(std::size_t flat) const;

 private:
  std::vector<std::size_t> sizes_;
  std::size_t total_ = 1;
};

}  // namespace iclab

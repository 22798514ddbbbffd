// Text to number: the one checked conversion that every parser of iclab uses (issue 14), for value
// lists, seeds, covariance specifications, .npy headers, CSV cells, journals, shards and options.
//
// The whole text must be the number: nothing before or after it ("0.5abc", " 1" and "1 " are refused,
// where std::stod read 0.5 and 1), not empty, and within its type: no overflow ("1e400", an integer past
// its type's range) and no sign for an unsigned type ("-1" never wraps to 2^64 - 1). The result is
// nullopt rather than an exception, so that each caller words its own message (naming its option, or its
// file and line); blanks around the text, a leading '+' and the words inf and nan are the caller's to
// allow.
#pragma once

#include <charconv>
#include <cmath>
#include <optional>
#include <string_view>
#include <system_error>
#include <type_traits>

namespace iclab {

// A decimal or scientific double ("0.5", "-1e-3", "1e-310"), or one of the words std::from_chars reads
// ("inf", "-inf", "nan", any case); nullopt for anything else, and for a magnitude past the double range
// (above or below: "1e400", "1e-400").
inline std::optional<double> to_number(std::string_view text) {
  double value = 0.0;
  const char* last = text.data() + text.size();
  const auto [ptr, ec] = std::from_chars(text.data(), last, value);
  if (text.empty() || ec != std::errc() || ptr != last) return std::nullopt;
  return value;
}

// to_number without the words: nullopt unless the value is finite.
inline std::optional<double> to_finite_number(std::string_view text) {
  const auto value = to_number(text);
  if (!value || !std::isfinite(*value)) return std::nullopt;
  return value;
}

// A decimal integer of type Integer ("17", "-3" for signed types); nullopt for anything else, for a
// value outside Integer's range, and for any sign of an unsigned Integer.
template <class Integer>
std::optional<Integer> to_integer(std::string_view text) {
  static_assert(std::is_integral_v<Integer> && !std::is_same_v<Integer, bool>);
  Integer value = 0;
  const char* last = text.data() + text.size();
  const auto [ptr, ec] = std::from_chars(text.data(), last, value, 10);
  if (text.empty() || ec != std::errc() || ptr != last) return std::nullopt;
  return value;
}

}  // namespace iclab

#include "iclab/params/value_list.hpp"

#include <cmath>
#include <limits>
#include <string>

#include "iclab/error.hpp"
#include "iclab/params/number.hpp"

namespace iclab {
namespace {

std::string quoted(std::string_view s) {
  std::string out(1, '\'');  // appended piecewise: GCC 12 warns falsely (-Wrestrict) on "'" + string
  out.append(s).push_back('\'');
  return out;
}

double parse_number(std::string_view token, std::string_view option, bool allow_infinity) {
  while (!token.empty() && token.front() == ' ') token.remove_prefix(1);
  while (!token.empty() && token.back() == ' ') token.remove_suffix(1);
  if (token == "inf" || token == "+inf" || token == "infinity") {
    if (!allow_infinity) throw InvalidArgument(std::string(option) + ": 'inf' is not allowed here");
    return std::numeric_limits<double>::infinity();
  }
  std::string_view digits = token;
  if (!digits.empty() && digits.front() == '+') digits.remove_prefix(1);
  const auto value = to_finite_number(digits);
  if (!value)
    throw InvalidArgument(std::string(option) + ": cannot parse " + quoted(token) +
                          " as a number (expected a value, a list 0.5,1,2, lin:START:STOP:COUNT or log:START:STOP:COUNT)");
  return *value;
}

std::vector<std::string_view> split(std::string_view text, char sep) {
  std::vector<std::string_view> parts;
  std::size_t start = 0;
  while (true) {
    const std::size_t pos = text.find(sep, start);
    parts.push_back(text.substr(start, pos == std::string_view::npos ? std::string_view::npos : pos - start));
    if (pos == std::string_view::npos) break;
    start = pos + 1;
  }
  return parts;
}

std::vector<double> parse_range(std::string_view text, std::string_view option, bool logarithmic) {
  const auto parts = split(text, ':');
  if (parts.size() != 4)
    throw InvalidArgument(std::string(option) + ": " + quoted(text) + " must have the form " +
                          (logarithmic ? "log" : "lin") + ":START:STOP:COUNT");
  const double start = parse_number(parts[1], option, false);
  const double stop = parse_number(parts[2], option, false);
  const double count_value = parse_number(parts[3], option, false);
  if (count_value < 1 || count_value != std::floor(count_value) || count_value > 1e7)
    throw InvalidArgument(std::string(option) + ": COUNT in " + quoted(text) + " must be an integer >= 1");
  const auto count = static_cast<std::size_t>(count_value);
  if (logarithmic && (start <= 0 || stop <= 0))
    throw InvalidArgument(std::string(option) + ": log:START:STOP:COUNT needs START > 0 and STOP > 0");
  std::vector<double> values(count);
  for (std::size_t i = 0; i < count; ++i) {
    const double t = count == 1 ? 0.0 : static_cast<double>(i) / static_cast<double>(count - 1);
    values[i] = logarithmic ? std::exp(std::log(start) + t * (std::log(stop) - std::log(start)))
                            : start + t * (stop - start);
  }
  // Hit the end points exactly, whatever the rounding of the interpolation.
  values.front() = start;
  values.back() = count == 1 ? start : stop;
  return values;
}

}  // namespace

std::vector<double> parse_value_list(std::string_view text, std::string_view option, ValueListOptions options) {
  if (text.rfind("lin:", 0) == 0) return parse_range(text, option, false);
  if (text.rfind("log:", 0) == 0) return parse_range(text, option, true);
  std::vector<double> values;
  for (auto token : split(text, ',')) values.push_back(parse_number(token, option, options.allow_infinity));
  return values;
}

std::vector<long> parse_integer_list(std::string_view text, std::string_view option) {
  std::vector<long> out;
  for (double v : parse_value_list(text, option)) {
    if (v != std::floor(v) || std::fabs(v) > 1e12)
      throw InvalidArgument(std::string(option) + ": expected integers, got " + std::to_string(v));
    out.push_back(static_cast<long>(v));
  }
  return out;
}

std::uint64_t parse_seed(std::string_view text, std::string_view option) {
  constexpr auto largest = static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max());
  std::string_view token = text;
  while (!token.empty() && token.front() == ' ') token.remove_prefix(1);
  while (!token.empty() && token.back() == ' ') token.remove_suffix(1);
  // An unsigned conversion accepts no sign, so "-1" is refused rather than wrapped to 2^64 - 1.
  const auto value = to_integer<std::uint64_t>(token);
  if (!value || *value > largest)
    throw InvalidArgument(std::string(option) + ": expected an integer in [0, " + std::to_string(largest) + "], got " +
                          quoted(text));
  return *value;
}

GridIndex::GridIndex(std::vector<std::size_t> sizes) : sizes_(std::move(sizes)) {
  // Checked product: a grid of 1e5 x 1e5 x 1e5 x 1e5 points wrapped around 2^64 and printed only a header.
  std::string shape;
  for (auto s : sizes_) shape += (shape.empty() ? "" : " x ") + std::to_string(s);
  for (auto s : sizes_) {
    if (s != 0 && total_ > kMaxGridPoints / s)
      throw InvalidArgument("grid: the product of the value lists (" + shape + ") has more than " +
                            std::to_string(kMaxGridPoints) + " points; split the sweep");
    total_ *= s;
  }
}

std::vector<std::size_t> GridIndex::at(std::size_t flat) const {
  std::vector<std::size_t> idx(sizes_.size());
  for (std::size_t a = sizes_.size(); a-- > 0;) {
    idx[a] = flat % sizes_[a];
    flat /= sizes_[a];
  }
  return idx;
}

}  // namespace iclab

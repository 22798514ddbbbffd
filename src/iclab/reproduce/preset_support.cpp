#include "iclab/reproduce/preset_support.hpp"

#include <algorithm>
#include <limits>
#include <stdexcept>
#include <string>
#include <vector>

#include "iclab/params/number.hpp"

namespace iclab {

CsvData load_results(const std::string& dir, const std::string& experiment) {
  return read_csv(dir + "/" + experiment + "/results.csv", experiment);
}

double csv_number(const std::string& text) {
  if (text.empty()) return std::numeric_limits<double>::quiet_NaN();
  if (text == "inf") return std::numeric_limits<double>::infinity();
  if (text == "-inf") return -std::numeric_limits<double>::infinity();
  // The whole cell (std::stod read "0.5abc" as 0.5 and reported "abc" as just "stod").
  const auto value = to_number(text);
  if (!value) throw std::runtime_error("results: the cell '" + text + "' is not a number");
  return *value;
}

std::string column_value(const CsvData& data, const std::string& column) {
  if (data.rows.empty()) return "?";
  const std::size_t c = data.column(column, "plot", "results");
  std::vector<std::string> values;
  for (const auto& row : data.rows)
    if (std::find(values.begin(), values.end(), row[c]) == values.end()) values.push_back(row[c]);
  auto shown = [](const std::string& v) { return v == "inf" ? std::string("∞") : v; };
  if (values.size() == 1) return shown(values.front());
  std::string out;
  for (const auto& v : values) out += (out.empty() ? "{" : ", ") + shown(v);
  return out + "}";
}

std::string covariance_name(const std::string& spec) {
  const auto after = [&](const std::string& prefix) { return spec.substr(prefix.size()); };
  if (spec == "linear") return "uniform spectrum";
  if (spec == "iso") return "I";
  if (spec.rfind("power:", 0) == 0) return "power law " + after("power:");
  if (spec.rfind("revpower:", 0) == 0) return "reversed power law " + after("revpower:");
  if (spec.rfind("lowrank:", 0) == 0) return "low rank " + after("lowrank:");
  if (spec.rfind("spike:", 0) == 0) return "spike at i = " + after("spike:");
  return plot::escape_enhanced(spec);
}

plot::Panel make_panel(std::string title, std::string xlabel, std::string ylabel, bool logx, bool logy) {
  plot::Panel panel;
  panel.title = std::move(title);
  panel.xlabel = std::move(xlabel);
  panel.ylabel = std::move(ylabel);
  panel.logx = logx;
  panel.logy = logy;
  return panel;
}

}  // namespace iclab

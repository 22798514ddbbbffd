#include "iclab/plot/figure.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>
#include <map>
#include <numeric>

#include "iclab/error.hpp"
#include "iclab/params/number.hpp"

namespace iclab::plot {
namespace {

std::vector<std::string> split_commas(const std::string& text) {
  std::vector<std::string> parts;
  std::size_t start = 0;
  while (true) {
    const std::size_t comma = text.find(',', start);
    parts.push_back(text.substr(start, comma == std::string::npos ? std::string::npos : comma - start));
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  return parts;
}

std::string trim(const std::string& s) {
  const auto b = s.find_first_not_of(" \t");
  if (b == std::string::npos) return "";
  return s.substr(b, s.find_last_not_of(" \t") - b + 1);
}

// A cell as a number: empty, nan and inf are accepted (gaps when plotted); anything else not a number is not.
bool parse_number(const std::string& cell, double& value) {
  const std::string t = trim(cell);
  if (t.empty()) {
    value = std::numeric_limits<double>::quiet_NaN();
    return true;
  }
  const auto number = to_number(t);
  if (number) value = *number;
  return number.has_value();
}

std::string format_value(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%g", v);
  return buf;
}

struct Column {
  std::string name;
  std::size_t index;
};

Column find_column(const CsvData& data, const std::string& name, const std::string& option, const std::string& source) {
  if (name.empty()) throw InvalidArgument(option + ": empty column name");
  return {name, data.column(name, option, source)};
}

std::vector<double> numeric_column(const CsvData& data, const Column& c, const std::string& option,
                                   const std::string& source) {
  std::vector<double> values(data.rows.size());
  for (std::size_t r = 0; r < data.rows.size(); ++r)
    if (!parse_number(data.rows[r][c.index], values[r]))
      throw InvalidArgument(option + ": " + source + " data row " + std::to_string(r + 1) + " column '" + c.name +
                            "' is not a number: '" + data.rows[r][c.index] + "'");
  return values;
}

}  // namespace

const std::vector<std::string>& palette() {
  // Okabe & Ito (2008), yellow last (weak on white).
  static const std::vector<std::string> colors = {"#0072B2", "#D55E00", "#009E73", "#CC79A7",
                                                  "#E69F00", "#56B4E9", "#000000", "#F0E442"};
  return colors;
}

std::string escape_enhanced(const std::string& text) {
  std::string out;
  for (char c : text) {
    if (c == '_' || c == '^' || c == '{' || c == '}' || c == '@' || c == '&' || c == '~' || c == '\\') out += '\\';
    out += c;
  }
  return out;
}

std::string parameter_symbol(const std::string& column) {
  static const std::map<std::string, std::string> symbols = {{"alpha", "α"}, {"alpha_test", "α_{test}"},
                                                             {"tau", "τ"},   {"kappa", "κ"},
                                                             {"rho", "ρ"},   {"lambda", "λ"},
                                                             {"d", "d"},     {"ell", "ℓ"},
                                                             {"k", "k"},     {"n", "n"}};
  const auto it = symbols.find(column);
  return it == symbols.end() ? escape_enhanced(column) : it->second;
}

std::vector<Series> series_from_csv(const CsvData& data, const std::string& x, const std::string& y,
                                    const std::string& yerr, const std::string& by, SeriesStyle style,
                                    const std::string& source) {
  const Column xcol = find_column(data, x, "--x", source);
  std::vector<Column> ycols, ecols;
  for (const std::string& name : split_commas(y)) ycols.push_back(find_column(data, trim(name), "--y", source));
  if (!yerr.empty()) {
    for (const std::string& name : split_commas(yerr)) ecols.push_back(find_column(data, trim(name), "--yerr", source));
    if (ecols.size() != 1 && ecols.size() != ycols.size())
      throw InvalidArgument("--yerr: give one column, or one per --y column (" + std::to_string(ycols.size()) +
                            "), got " + std::to_string(ecols.size()));
  }
  const std::vector<double> xs = numeric_column(data, xcol, "--x", source);
  std::vector<std::vector<double>> ys, es;
  for (const Column& c : ycols) ys.push_back(numeric_column(data, c, "--y", source));
  for (const Column& c : ecols) es.push_back(numeric_column(data, c, "--yerr", source));

  // Groups: (label text, row indices), numeric ascending when every value parses, else first appearance.
  std::vector<std::pair<std::string, std::vector<std::size_t>>> groups;
  if (by.empty()) {
    std::vector<std::size_t> all(data.rows.size());
    std::iota(all.begin(), all.end(), std::size_t{0});
    groups.emplace_back("", std::move(all));
  } else {
    const Column bcol = find_column(data, by, "--by", source);
    bool numeric = true;
    std::vector<double> values(data.rows.size());
    for (std::size_t r = 0; r < data.rows.size(); ++r)
      numeric = numeric && parse_number(data.rows[r][bcol.index], values[r]) && !trim(data.rows[r][bcol.index]).empty();
    const std::string symbol = parameter_symbol(by);
    if (numeric) {
      std::map<double, std::vector<std::size_t>> by_value;  // NaN never occurs: empty cells are not numeric
      for (std::size_t r = 0; r < data.rows.size(); ++r) by_value[values[r]].push_back(r);
      for (auto& [value, rows] : by_value) groups.emplace_back(symbol + " = " + format_value(value), std::move(rows));
    } else {
      std::map<std::string, std::size_t> position;
      for (std::size_t r = 0; r < data.rows.size(); ++r) {
        const std::string& cell = data.rows[r][bcol.index];
        auto [it, inserted] = position.emplace(cell, groups.size());
        if (inserted) groups.emplace_back(symbol + " = " + escape_enhanced(cell), std::vector<std::size_t>{});
        groups[it->second].second.push_back(r);
      }
    }
  }

  std::vector<Series> series;
  for (std::size_t yi = 0; yi < ycols.size(); ++yi) {
    for (const auto& [group_label, rows_in] : groups) {
      std::vector<std::size_t> rows = rows_in;
      std::stable_sort(rows.begin(), rows.end(), [&](std::size_t a, std::size_t b) {
        // NaN x last; they are gaps anyway
        if (std::isnan(xs[a])) return false;
        if (std::isnan(xs[b])) return true;
        return xs[a] < xs[b];
      });
      Series s;
      s.style = style;
      s.color = static_cast<int>(series.size());
      std::string label = ycols.size() > 1 ? escape_enhanced(ycols[yi].name) : "";
      if (!group_label.empty()) label += (label.empty() ? "" : ", ") + group_label;
      s.label = label;
      for (std::size_t r : rows) {
        s.x.push_back(xs[r]);
        s.y.push_back(ys[yi][r]);
        if (!es.empty()) s.yerr.push_back(es[es.size() == 1 ? 0 : yi][r]);
      }
      series.push_back(std::move(s));
    }
  }
  return series;
}

}  // namespace iclab::plot

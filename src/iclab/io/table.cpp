#include "iclab/io/table.hpp"

#include <charconv>
#include <cmath>
#include <stdexcept>

namespace iclab {

void Table::add_row(std::vector<Cell> row) {
  if (row.size() != columns_.size()) throw std::logic_error("Table::add_row: wrong number of cells");
  rows_.push_back(std::move(row));
}

std::string format_number(double value) {
  if (std::isnan(value)) return "nan";
  if (std::isinf(value)) return value > 0 ? "inf" : "-inf";
  char buffer[64];
  const auto result = std::to_chars(buffer, buffer + sizeof buffer, value);
  return std::string(buffer, result.ptr);
}

namespace {

std::string csv_field(const std::string& text) {
  if (text.find_first_of(",\"\n;") == std::string::npos) return text;
  std::string quoted = "\"";
  for (char c : text) {
    if (c == '"') quoted += '"';
    quoted += c;
  }
  return quoted + "\"";
}

std::string cell_text(const Cell& cell) {
  struct Visitor {
    std::string operator()(std::monostate) const { return ""; }
    std::string operator()(double v) const { return format_number(v); }
    std::string operator()(long v) const { return std::to_string(v); }
    std::string operator()(const std::string& v) const { return csv_field(v); }
  };
  return std::visit(Visitor{}, cell);
}

nlohmann::json cell_json(const Cell& cell) {
  struct Visitor {
    nlohmann::json operator()(std::monostate) const { return nullptr; }
    nlohmann::json operator()(double v) const {
      return std::isfinite(v) ? nlohmann::json(v) : nlohmann::json(format_number(v));
    }
    nlohmann::json operator()(long v) const { return v; }
    nlohmann::json operator()(const std::string& v) const { return v; }
  };
  return std::visit(Visitor{}, cell);
}

}  // namespace

std::string Table::to_csv() const {
  std::string out;
  auto append_line = [&out](const auto& cells, auto&& text) {
    for (std::size_t c = 0; c < cells.size(); ++c) {
      if (c) out += ',';
      out += text(cells[c]);
    }
    out += '\n';
  };
  append_line(columns_, [](const std::string& name) { return name; });
  for (const auto& row : rows_) append_line(row, cell_text);
  return out;
}

nlohmann::json Table::to_json() const {
  nlohmann::json rows = nlohmann::json::array();
  for (const auto& row : rows_) {
    nlohmann::json object = nlohmann::json::object();
    for (std::size_t c = 0; c < row.size(); ++c) object[columns_[c]] = cell_json(row[c]);
    rows.push_back(std::move(object));
  }
  return {{"columns", columns_}, {"rows", std::move(rows)}};
}

Cell optional_cell(const std::optional<double>& value) {
  if (!value) return std::monostate{};
  return *value;
}

}  // namespace iclab

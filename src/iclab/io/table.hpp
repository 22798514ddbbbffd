// A results table (named columns, one row per grid point) and its CSV / JSON renderings.
#pragma once

#include <optional>
#include <string>
#include <variant>
#include <vector>

#include <nlohmann/json.hpp>

namespace iclab {

// A cell is a number, a text, or empty (no formula / not applicable).
using Cell = std::variant<std::monostate, double, long, std::string>;

class Table {
 public:
  explicit Table(std::vector<std::string> columns) : columns_(std::move(columns)) {}
  const std::vector<std::string>& columns() const { return columns_; }
  const std::vector<std::vector<Cell>>& rows() const { return rows_; }
  // Throws std::logic_error if the row does not have one cell per column.
  void add_row(std::vector<Cell> row);

  std::string to_csv() const;
  // {"columns": [...], "rows": [{column: value-or-null}], "conventions": ..., "meta": ...}
  nlohmann::json to_json() const;

 private:
  std::vector<std::string> columns_;
  std::vector<std::vector<Cell>> rows_;
};

Cell optional_cell(const std::optional<double>& value);
// Shortest text that reads back to the same double (std::to_chars); "inf"/"nan" spelled out.
std::string format_number(double value);

}  // namespace iclab

// Reading a results CSV (header + rows, RFC-4180 quoting) back, e.g. for `iclab align --spearman-against`.
#pragma once

#include <string>
#include <vector>

namespace iclab {

struct CsvData {
  std::vector<std::string> columns;
  std::vector<std::vector<std::string>> rows;
  // Index of a column; throws InvalidArgument "<option>: FILE has no column 'name'" when absent.
  std::size_t column(const std::string& name, const std::string& option, const std::string& path) const;
};

// Throws InvalidArgument naming `option` when the file cannot be read or a row has the wrong width.
CsvData read_csv(const std::string& path, const std::string& option);

// The number in one cell, as Table writes them (a decimal or scientific number, "inf", "-inf", "nan").
// The whole cell must be the number: "0.5abc" or "" throws InvalidArgument
// "<option>: PATH column 'NAME': '0.5abc' is not a number".
double parse_csv_number(const std::string& cell, const std::string& option, const std::string& path,
                        const std::string& column);

}  // namespace iclab

#include "iclab/io/csv_reader.hpp"

#include <filesystem>
#include <fstream>

#include "iclab/error.hpp"
#include "iclab/params/number.hpp"

namespace iclab {
namespace {

std::vector<std::string> split_csv_line(const std::string& line) {
  std::vector<std::string> cells(1);
  bool quoted = false;
  for (std::size_t i = 0; i < line.size(); ++i) {
    const char c = line[i];
    if (quoted) {
      if (c == '"' && i + 1 < line.size() && line[i + 1] == '"') {
        cells.back() += '"';
        ++i;
      } else if (c == '"') {
        quoted = false;
      } else {
        cells.back() += c;
      }
    } else if (c == '"') {
      quoted = true;
    } else if (c == ',') {
      cells.emplace_back();
    } else if (c != '\r') {
      cells.back() += c;
    }
  }
  return cells;
}

}  // namespace

std::size_t CsvData::column(const std::string& name, const std::string& option, const std::string& path) const {
  for (std::size_t i = 0; i < columns.size(); ++i)
    if (columns[i] == name) return i;
  throw InvalidArgument(option + ": " + path + " has no column '" + name + "'");
}

CsvData read_csv(const std::string& path, const std::string& option) {
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec))
    throw InvalidArgument(option + ": '" + path + "' is a directory, not a CSV file");
  std::ifstream in(path);
  if (!in) throw InvalidArgument(option + ": cannot read '" + path + "'");
  CsvData data;
  std::string line;
  if (!std::getline(in, line)) throw InvalidArgument(option + ": '" + path + "' is empty");
  data.columns = split_csv_line(line);
  long line_number = 1;
  while (std::getline(in, line)) {
    ++line_number;
    if (line.empty() || line[0] == '#') continue;
    auto cells = split_csv_line(line);
    if (cells.size() != data.columns.size())
      throw InvalidArgument(option + ": '" + path + "' line " + std::to_string(line_number) + " has " +
                            std::to_string(cells.size()) + " cells, the header has " +
                            std::to_string(data.columns.size()));
    data.rows.push_back(std::move(cells));
  }
  return data;
}

double parse_csv_number(const std::string& cell, const std::string& option, const std::string& path,
                        const std::string& column) {
  const auto value = to_number(cell);
  if (!value) throw InvalidArgument(option + ": " + path + " column '" + column + "': '" + cell + "' is not a number");
  return *value;
}

}  // namespace iclab

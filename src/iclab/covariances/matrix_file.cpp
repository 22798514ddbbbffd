#include "iclab/covariances/matrix_file.hpp"

#include <bit>
#include <cstdint>
#include <fstream>
#include <iterator>
#include <sstream>
#include <string_view>
#include <vector>

#include "iclab/error.hpp"
#include "iclab/io/text_file.hpp"
#include "iclab/params/number.hpp"

namespace iclab {
namespace {

class FileError {
 public:
  FileError(const std::string& path, const std::string& option) : prefix_(option + ": " + path + ": ") {}
  [[noreturn]] void raise(const std::string& problem) const { throw InvalidArgument(prefix_ + problem); }

 private:
  std::string prefix_;
};

std::string read_bytes(const std::string& path, const FileError& error) {
  const auto bytes = read_text_file(path);  // nothing for a directory or a read error
  if (!bytes) error.raise("cannot open the file");
  return *bytes;
}

bool ends_with(const std::string& text, const std::string& suffix) {
  return text.size() >= suffix.size() && text.compare(text.size() - suffix.size(), suffix.size(), suffix) == 0;
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t' || s.front() == '\r')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) s.remove_suffix(1);
  return s;
}

// ------------------------------------------------------------------------------------------------ .npy
// The header is a Python dict literal such as
//   {'descr': '<f8', 'fortran_order': False, 'shape': (100, 100), }
// Only the three keys NumPy always writes are needed; the value after each key is located textually.
std::string_view header_value(std::string_view header, const char* key, const FileError& error) {
  const std::string quoted_single = std::string("'") + key + "'";
  const std::string quoted_double = std::string("\"") + key + "\"";
  std::size_t at = header.find(quoted_single);
  std::size_t key_length = quoted_single.size();
  if (at == std::string_view::npos) {
    at = header.find(quoted_double);
    key_length = quoted_double.size();
  }
  if (at == std::string_view::npos) error.raise(std::string("NPY header has no '") + key + "' entry");
  std::string_view rest = header.substr(at + key_length);
  rest = trim(rest);
  if (rest.empty() || rest.front() != ':') error.raise("malformed NPY header");
  return trim(rest.substr(1));
}

struct NpyHeader {
  std::vector<long> shape;
  bool fortran_order = false;
  std::size_t data_offset = 0;
};

NpyHeader parse_npy_header(const std::string& bytes, const FileError& error) {
  static constexpr char kMagic[] = "\x93NUMPY";
  if (bytes.size() < 10 || bytes.compare(0, 6, kMagic, 6) != 0) error.raise("not an NPY file (bad magic string)");
  const auto byte = [&](std::size_t i) { return static_cast<std::uint32_t>(static_cast<unsigned char>(bytes[i])); };
  const std::uint32_t major = byte(6);
  std::size_t header_length = 0;
  std::size_t header_start = 0;
  if (major == 1) {
    header_length = byte(8) | (byte(9) << 8);
    header_start = 10;
  } else if (major == 2 || major == 3) {
    if (bytes.size() < 12) error.raise("truncated NPY header");
    header_length = byte(8) | (byte(9) << 8) | (byte(10) << 16) | (byte(11) << 24);
    header_start = 12;
  } else {
    error.raise("unsupported NPY format version " + std::to_string(major));
  }
  if (bytes.size() < header_start + header_length) error.raise("truncated NPY header");
  const std::string_view header(bytes.data() + header_start, header_length);

  NpyHeader result;
  result.data_offset = header_start + header_length;

  std::string_view descr = header_value(header, "descr", error);
  if (descr.size() < 2 || (descr.front() != '\'' && descr.front() != '"')) error.raise("malformed NPY 'descr'");
  const std::size_t close = descr.find(descr.front(), 1);
  if (close == std::string_view::npos) error.raise("malformed NPY 'descr'");
  const std::string dtype(descr.substr(1, close - 1));
  if (dtype != "<f8")
    error.raise("NPY dtype '" + dtype + "' is not supported; save the array as little-endian float64 ('<f8')");

  const std::string_view order = header_value(header, "fortran_order", error);
  if (order.starts_with("True")) {
    result.fortran_order = true;
  } else if (!order.starts_with("False")) {
    error.raise("malformed NPY 'fortran_order'");
  }

  std::string_view shape = header_value(header, "shape", error);
  if (shape.empty() || shape.front() != '(') error.raise("malformed NPY 'shape'");
  const std::size_t end = shape.find(')');
  if (end == std::string_view::npos) error.raise("malformed NPY 'shape'");
  std::string_view items = shape.substr(1, end - 1);
  while (!items.empty()) {
    const std::size_t comma = items.find(',');
    const std::string_view item = trim(items.substr(0, comma));
    if (!item.empty()) {
      const auto value = to_integer<long>(item);
      if (!value || *value < 0) error.raise("malformed NPY 'shape'");
      result.shape.push_back(*value);
    }
    if (comma == std::string_view::npos) break;
    items.remove_prefix(comma + 1);
  }
  if (result.shape.empty() || result.shape.size() > 2)
    error.raise("NPY array must be 1-D or 2-D, got " + std::to_string(result.shape.size()) + "-D");
  return result;
}

double little_endian_double(const char* p) {
  std::uint64_t bits = 0;
  for (int i = 7; i >= 0; --i) bits = (bits << 8) | static_cast<unsigned char>(p[i]);
  return std::bit_cast<double>(bits);
}

Matrix read_npy(const std::string& path, const FileError& error) {
  const std::string bytes = read_bytes(path, error);
  const NpyHeader header = parse_npy_header(bytes, error);
  const long rows = header.shape[0];
  const long cols = header.shape.size() == 2 ? header.shape[1] : 1;
  // Checked against the bytes present without forming rows * cols * 8, which a forged shape such as
  // (4294967296, 4294967297) wraps around 2^64 to a small number.
  const std::size_t values_present = bytes.size() >= header.data_offset ? (bytes.size() - header.data_offset) / 8 : 0;
  if (rows != 0 && static_cast<std::size_t>(cols) > values_present / static_cast<std::size_t>(rows))
    error.raise("NPY data is shorter than its shape says");
  Matrix m(rows, cols);
  const char* data = bytes.data() + header.data_offset;
  for (long i = 0; i < rows; ++i)
    for (long j = 0; j < cols; ++j) {
      // C order stores rows contiguously, Fortran order columns; a 1-D array is both.
      const std::size_t index = header.fortran_order ? static_cast<std::size_t>(j * rows + i)
                                                     : static_cast<std::size_t>(i * cols + j);
      m(i, j) = little_endian_double(data + 8 * index);
    }
  return m;
}

// ------------------------------------------------------------------------------------------------ .csv
double parse_csv_number(std::string_view text, long line, const FileError& error) {
  std::string_view s = trim(text);
  if (!s.empty() && s.front() == '+') s.remove_prefix(1);
  const auto value = to_number(s);
  if (!value) error.raise("line " + std::to_string(line) + ": '" + std::string(trim(text)) + "' is not a number");
  return *value;
}

Matrix read_csv(const std::string& path, const FileError& error) {
  std::istringstream in(read_bytes(path, error));
  std::vector<std::vector<double>> rows;
  std::string line;
  long line_number = 0;
  while (std::getline(in, line)) {
    ++line_number;
    const std::string_view content = trim(line);
    if (content.empty() || content.front() == '#') continue;
    std::vector<double> row;
    std::string_view rest = content;
    while (true) {
      const std::size_t comma = rest.find(',');
      row.push_back(parse_csv_number(rest.substr(0, comma), line_number, error));
      if (comma == std::string_view::npos) break;
      rest.remove_prefix(comma + 1);
    }
    if (!rows.empty() && row.size() != rows.front().size())
      error.raise("line " + std::to_string(line_number) + " has " + std::to_string(row.size()) +
                  " values, the first row has " + std::to_string(rows.front().size()));
    rows.push_back(std::move(row));
  }
  if (rows.empty()) error.raise("the file holds no numbers");
  const long r = static_cast<long>(rows.size());
  const long c = static_cast<long>(rows.front().size());
  if (r == 1) return Eigen::Map<const Vector>(rows.front().data(), c);  // one line: a vector
  Matrix m(r, c);
  for (long i = 0; i < r; ++i)
    for (long j = 0; j < c; ++j) m(i, j) = rows[static_cast<std::size_t>(i)][static_cast<std::size_t>(j)];
  return m;
}

}  // namespace

Matrix read_matrix_file(const std::string& path, const std::string& option) {
  const FileError error(path, option);
  if (ends_with(path, ".npy")) return read_npy(path, error);
  if (ends_with(path, ".csv")) return read_csv(path, error);
  error.raise("unknown file type; expected a .npy or .csv file");
}

}  // namespace iclab

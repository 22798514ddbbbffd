// libFuzzer target: the file readers, CSV (io/csv_reader) and .npy/.csv matrices (covariances/matrix_file).
// The input is written to a temporary file and read back; it must be read or refused with
// iclab::InvalidArgument (never std::bad_alloc from a forged .npy shape, never a crash).
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <string>

#include "iclab/covariances/matrix_file.hpp"
#include "iclab/error.hpp"
#include "iclab/io/csv_reader.hpp"

namespace {

std::string write_temp(const std::uint8_t* data, std::size_t size, const char* suffix) {
  std::string path = std::string("/tmp/iclab-fuzz-") + std::to_string(::getpid()) + suffix;
  std::FILE* f = std::fopen(path.c_str(), "wb");
  if (!f) return "";
  std::fwrite(data, 1, size, f);
  std::fclose(f);
  return path;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  for (const char* suffix : {".csv", ".npy"}) {
    const std::string path = write_temp(data, size, suffix);
    if (path.empty()) return 0;
    try {
      (void)iclab::read_matrix_file(path, "--fuzz");
    } catch (const iclab::InvalidArgument&) {
    }
    if (std::string(suffix) == ".csv") {
      try {
        const iclab::CsvData csv = iclab::read_csv(path, "--fuzz");
        for (const auto& row : csv.rows)
          for (std::size_t c = 0; c < row.size(); ++c) {
            try {
              (void)iclab::parse_csv_number(row[c], "--fuzz", path, csv.columns.at(c));
            } catch (const iclab::InvalidArgument&) {
            }
          }
      } catch (const iclab::InvalidArgument&) {
      }
    }
    std::remove(path.c_str());
  }
  return 0;
}

#include "iclab/io/text_file.hpp"

#include <exception>
#include <filesystem>
#include <fstream>
#include <system_error>

namespace iclab {

std::optional<std::string> read_text_file(const std::string& path) {
  // A directory opens as an empty stream (or fails inside the stream buffer with libstdc++'s
  // "basic_filebuf::underflow"): it is not a file.
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec)) return std::nullopt;
  std::ifstream in(path, std::ios::binary);
  if (!in) return std::nullopt;
  std::string text;
  char buffer[65536];
  try {
    while (in.read(buffer, sizeof buffer) || in.gcount() > 0)
      text.append(buffer, static_cast<std::size_t>(in.gcount()));
  } catch (const std::exception&) {
    return std::nullopt;
  }
  if (in.bad()) return std::nullopt;
  return text;
}

}  // namespace iclab

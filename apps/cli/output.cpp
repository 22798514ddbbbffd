#include "output.hpp"

#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <stdexcept>
#include <string>
#include <variant>

#include "iclab/experiments/columns.hpp"
#include "iclab/io/atomic_file.hpp"
#include "iclab/params/model_params.hpp"
#include "iclab/version.hpp"

namespace iclab::cli {

void OutputOptions::add_to(CLI::App& command) {
  command.add_flag("--json", json, "Write JSON (rows plus metadata) instead of CSV");
  command.add_option("--out", out, "Write the result to FILE atomically, plus FILE.meta.json");
}

nlohmann::json RunInfo::to_json() const {
  nlohmann::json j;
  j["program"] = "iclab";
  j["version"] = iclab::version();
  j["git"] = iclab::git_describe();
  j["command_line"] = command_line;
  j["conventions"] = conventions_json();
  j["seconds"] = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  for (auto& [key, value] : extra.items()) j[key] = value;
  return j;
}

void check_output_target(const OutputOptions& options) {
  if (options.out.empty()) return;
  namespace fs = std::filesystem;
  const fs::path target(options.out);
  const fs::path dir = target.has_parent_path() ? target.parent_path() : fs::path(".");
  std::error_code ec;
  if (!fs::is_directory(dir, ec))
    throw InvalidArgument("--out: directory '" + dir.string() + "' does not exist");
  if (fs::is_directory(target, ec)) throw InvalidArgument("--out: '" + options.out + "' is a directory");
  require_writable_directory(dir.string(), "--out");  // fails now, not after the computation
  require_replaceable(options.out, "--out");
  require_replaceable(options.out + ".meta.json", "--out");
}

void require_no_nan(const Table& table) {
  const auto& rows = table.rows();
  for (std::size_t r = 0; r < rows.size(); ++r)
    for (std::size_t c = 0; c < rows[r].size(); ++c)
      if (const double* v = std::get_if<double>(&rows[r][c]); v && std::isnan(*v))
        throw std::runtime_error("column '" + table.columns()[c] + "' of row " + std::to_string(r + 1) +
                                 " is NaN: the computation failed numerically; nothing was written");
}

void write_stdout(const std::string& body) {
  // A full disk or a closed pipe must not pass for success: check the write and the flush.
  errno = 0;
  const std::size_t written = std::fwrite(body.data(), 1, body.size(), stdout);
  if (written != body.size() || std::fflush(stdout) != 0 || std::ferror(stdout))
    throw std::runtime_error(std::string("stdout: write failed: ") + (errno ? std::strerror(errno) : "short write"));
}

void emit(const Table& table, const RunInfo& info, const OutputOptions& options) {
  require_no_nan(table);
  nlohmann::json meta = info.to_json();
  meta["column_meanings"] = column_meanings(table.columns());  // docs/columns.md
  std::string body;
  if (options.json) {
    nlohmann::json j = table.to_json();
    j["meta"] = meta;
    body = j.dump(2) + "\n";
  } else {
    body = table.to_csv();
  }
  if (options.out.empty()) {
    write_stdout(body);
    return;
  }
  write_file_atomically(options.out, body);
  write_file_atomically(options.out + ".meta.json", meta.dump(2) + "\n");
}

}  // namespace iclab::cli

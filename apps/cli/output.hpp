// Shared front-end plumbing: output options, metadata and how results leave the program.
#pragma once

#include <chrono>
#include <string>

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include "iclab/io/table.hpp"

namespace iclab::cli {

struct OutputOptions {
  bool json = false;
  std::string out;  // empty: stdout
  void add_to(CLI::App& command);
};

// The metadata every output carries: command line, version, conventions, timings.
struct RunInfo {
  std::string command_line;
  std::chrono::steady_clock::time_point start = std::chrono::steady_clock::now();
  nlohmann::json extra = nlohmann::json::object();  // seed, solver reports, ...
  nlohmann::json to_json() const;
};

// Writes the table to stdout, or atomically to --out plus --out.meta.json. A NaN cell is never written:
// std::runtime_error naming the column and row instead (exit 1), as is a failed write to stdout.
void emit(const Table& table, const RunInfo& info, const OutputOptions& options);
void require_no_nan(const Table& table);
// Writes to stdout and flushes; std::runtime_error when either fails (a full disk, a closed pipe).
void write_stdout(const std::string& body);

// Checks that an --out target can be written before any work starts (exit 2 otherwise).
void check_output_target(const OutputOptions& options);

}  // namespace iclab::cli

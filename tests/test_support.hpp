// Helpers the tests that run the `iclab` program or read its files share: a file's text, a fresh
// folder per test, one run of the program with its output captured. Header-only; ICLAB_BINARY is the
// program's path (tests/CMakeLists.txt defines it for every test).
#pragma once

#include <sys/wait.h>
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

#include "iclab/io/text_file.hpp"

namespace iclab::test_support {

// The file's text ("" when missing).
inline std::string slurp(const std::filesystem::path& p) { return read_text_file(p.string()).value_or(""); }

inline void write(const std::filesystem::path& p, const std::string& text) { std::ofstream(p) << text; }

// FNV-1a 64 as 16 hex digits: the checksum of the runner's journal and .meta.json (runner.hpp), written
// out here independently of the runner's code.
inline std::string fnv1a(const std::string& text) {
  std::uint64_t h = 0xcbf29ce484222325ULL;
  for (unsigned char c : text) h = (h ^ c) * 0x100000001b3ULL;
  char hex[17];
  std::snprintf(hex, sizeof hex, "%016llx", static_cast<unsigned long long>(h));
  return hex;
}

// An empty folder <temp>/<prefix>_<pid>_<name>, emptied first if it exists: the pid keeps the same
// test in two concurrent runs (ctest -j) apart.
inline std::filesystem::path fresh_dir(const std::string& prefix, const std::string& name) {
  const std::filesystem::path dir =
      std::filesystem::temp_directory_path() / (prefix + "_" + std::to_string(::getpid()) + "_" + name);
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  return dir;
}

// Runs `PROGRAM ARGS` with its stdout and stderr written to DIR/stdout and DIR/stderr; returns the exit
// status and, when `err` is given, the text of stderr.
inline int run_program(const std::filesystem::path& program, const std::string& args, const std::filesystem::path& dir,
                       std::string* err = nullptr) {
  const std::string cmd =
      program.string() + " " + args + " >" + (dir / "stdout").string() + " 2>" + (dir / "stderr").string();
  const int status = std::system(cmd.c_str());
  if (err) *err = slurp(dir / "stderr");
  return WEXITSTATUS(status);
}

// run_program for the `iclab` this build made.
inline int run_iclab(const std::string& args, const std::filesystem::path& dir, std::string* err = nullptr) {
  return run_program(ICLAB_BINARY, args, dir, err);
}

}  // namespace iclab::test_support

// Reading a whole file as text (experiment files, results, journals).
#pragma once

#include <optional>
#include <string>

namespace iclab {

// The file's bytes, or nothing when it cannot be opened or read (a directory included).
std::optional<std::string> read_text_file(const std::string& path);

}  // namespace iclab

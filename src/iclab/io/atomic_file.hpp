// Atomic file output: readers never see a half-written file, and a failed run leaves none.
#pragma once

#include <string>

namespace iclab {

// Writes `content` to a temporary file beside `path`, flushes it to disk and renames it over `path`.
// Throws std::runtime_error (naming the path) on failure; the temporary is removed.
void write_file_atomically(const std::string& path, const std::string& content);

}  // namespace iclab

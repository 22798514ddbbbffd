// Atomic file output: readers never see a half-written file, and a failed run leaves none.
#pragma once

#include <string>

namespace iclab {

// Writes `content` to a temporary file beside `path`, flushes it to disk and renames it over `path`.
// Throws std::runtime_error (naming the path) on failure; the temporary is removed. Refuses (as
// require_replaceable) to replace anything but a regular file.
void write_file_atomically(const std::string& path, const std::string& content);

// Throws InvalidArgument "<option>: '<path>' is a symbolic link (or FIFO, device, socket, directory) ..."
// unless `path` is absent or a regular file (not followed: a link is refused even to a regular file),
// so that an output never replaces, or writes through, anything else.
void require_replaceable(const std::string& path, const std::string& option);

// Throws InvalidArgument "<option>: cannot create files in '<dir>': <reason>" unless a file can be created
// there (probed by creating and removing one, which also holds for root on a read-only file system).
void require_writable_directory(const std::string& dir, const std::string& option);

}  // namespace iclab

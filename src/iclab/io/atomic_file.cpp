#include "iclab/io/atomic_file.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <stdexcept>
#include <string>

#include "iclab/error.hpp"

namespace iclab {

void require_replaceable(const std::string& path, const std::string& option) {
  struct stat st {};
  if (::lstat(path.c_str(), &st) != 0) return;  // absent (or unreadable: the write reports it)
  if (S_ISREG(st.st_mode)) return;
  const char* kind = S_ISLNK(st.st_mode)    ? "a symbolic link"
                     : S_ISFIFO(st.st_mode) ? "a FIFO"
                     : S_ISDIR(st.st_mode)  ? "a directory"
                     : S_ISSOCK(st.st_mode) ? "a socket"
                                            : "a device node";
  throw InvalidArgument(option + ": '" + path + "' is " + kind +
                        "; iclab writes only new or regular files (it would replace it)");
}

void require_writable_directory(const std::string& dir, const std::string& option) {
  std::string probe = (std::filesystem::path(dir) / ".iclab-probe.XXXXXX").string();
  const int fd = mkstemp(probe.data());
  if (fd < 0) throw InvalidArgument(option + ": cannot create files in '" + dir + "': " + std::strerror(errno));
  ::close(fd);
  std::remove(probe.c_str());
}

void write_file_atomically(const std::string& path, const std::string& content) {
  namespace fs = std::filesystem;
  require_replaceable(path, "output");
  const fs::path target(path);
  const fs::path dir = target.has_parent_path() ? target.parent_path() : fs::path(".");
  std::error_code ec;
  if (!fs::is_directory(dir, ec))
    throw std::runtime_error(path + ": directory '" + dir.string() + "' does not exist");
  std::string tmp_leaf = ".";  // built by append: GCC 12 warns falsely (-Wrestrict) on operator+ here
  tmp_leaf.append(target.filename().string()).append(".tmp.XXXXXX");
  std::string tmp_name = (dir / tmp_leaf).string();
  const int fd = mkstemp(tmp_name.data());
  if (fd < 0) throw std::runtime_error(path + ": cannot create a temporary file: " + std::strerror(errno));
  auto fail = [&](const char* what) {
    const std::string reason = std::strerror(errno);
    ::close(fd);
    std::remove(tmp_name.c_str());
    throw std::runtime_error(path + ": " + what + ": " + reason);
  };
  std::size_t written = 0;
  while (written < content.size()) {
    const ssize_t w = ::write(fd, content.data() + written, content.size() - written);
    if (w < 0) {
      if (errno == EINTR) continue;
      fail("write failed");
    }
    written += static_cast<std::size_t>(w);
  }
  if (::fchmod(fd, 0644) != 0) fail("chmod failed");
  if (::fsync(fd) != 0) fail("fsync failed");
  if (::close(fd) != 0) {
    std::remove(tmp_name.c_str());
    throw std::runtime_error(path + ": close failed");
  }
  if (std::rename(tmp_name.c_str(), path.c_str()) != 0) {
    const std::string reason = std::strerror(errno);
    std::remove(tmp_name.c_str());
    throw std::runtime_error(path + ": rename failed: " + reason);
  }
}

}  // namespace iclab

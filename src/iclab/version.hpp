// The library's version and the source tree it was built from, as recorded in every meta.json.
// Both are compiled into the library (a file generated at build time, cmake/iclabWriteVersion.cmake),
// so they describe the library that runs, not the headers a program was compiled against, and the git
// description follows new commits without a re-configure.
#pragma once

#include <string_view>

namespace iclab {

// The project version of CMakeLists.txt, e.g. "0.2.0".
std::string_view version() noexcept;

// `git describe --always --tags` of the source tree at build time, with "-dirty" when tracked files
// had uncommitted changes; "unknown" when built outside a git checkout (a release tarball).
std::string_view git_describe() noexcept;

}  // namespace iclab

#pragma once

#include <cstdlib>
#include <string>

namespace eventide::test {

/// The repository root: $EVENTIDE_SOURCE_DIR (set by ctest), else the path
/// CMake compiled in, so the test binary also works when run by hand.
inline std::string source_dir() {
  if (auto dir = std::getenv("EVENTIDE_SOURCE_DIR"))
    return dir;
  return EVENTIDE_SOURCE_DIR_DEFAULT;
}

} // namespace eventide::test

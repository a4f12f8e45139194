#pragma once

// Helpers shared by the fuzz targets (header-only, each target is one
// translation unit).

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace eventide::fuzz {

/// Stops the run with a crash libFuzzer reports (and saves the input).
inline void check(bool ok) {
  if (!ok)
    __builtin_trap();
}

/// Takes configuration bytes off the front of the input.
class input {
public:
  input(const uint8_t* data, std::size_t size)
    : rest_(reinterpret_cast<const char*>(data), size) {
  }

  /// The next byte, 0 once the input is used up.
  uint8_t byte() {
    if (rest_.empty())
      return 0;
    auto b = static_cast<uint8_t>(rest_.front());
    rest_.remove_prefix(1);
    return b;
  }

  std::string_view rest() const {
    return rest_;
  }

private:
  std::string_view rest_;
};

} // namespace eventide::fuzz

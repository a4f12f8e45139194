#pragma once

#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include <caf/binary_deserializer.hpp>
#include <caf/binary_serializer.hpp>
#include <caf/error.hpp>

namespace eventide {

// CAF's binary format for what goes to disk (WAL batches, snapshots): the
// same encoding messages use between nodes, so one `inspect` per type
// serves both. No actor handles inside, hence no execution context.

/// The bytes of `x`; throws std::runtime_error when it cannot be encoded.
template <class T>
std::string to_bytes(const T& x) {
  std::vector<char> buf;
  caf::binary_serializer sink{nullptr, buf};
  if (auto err = sink(const_cast<T&>(x)))
    throw std::runtime_error("cannot encode: " + caf::to_string(err));
  return std::string(buf.begin(), buf.end());
}

/// Decodes `bytes` into `x`; throws std::runtime_error on malformed input.
template <class T>
void from_bytes(std::string_view bytes, T& x) {
  caf::binary_deserializer source{nullptr, bytes.data(), bytes.size()};
  if (auto err = source(x))
    throw std::runtime_error("cannot decode: " + caf::to_string(err));
  if (source.remaining() != 0)
    throw std::runtime_error("cannot decode: "
                             + std::to_string(source.remaining())
                             + " bytes left over");
}

} // namespace eventide

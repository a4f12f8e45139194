#pragma once

#include <cstdint>
#include <optional>

#include <boost/json/value.hpp>

namespace eventide::bench {

/// A JSON number as an unsigned integer, if it is one (nullptr: nullopt).
inline std::optional<uint64_t> as_u64(const boost::json::value* v) {
  if (v == nullptr)
    return std::nullopt;
  if (v->is_uint64())
    return v->get_uint64();
  if (v->is_int64() && v->get_int64() >= 0)
    return static_cast<uint64_t>(v->get_int64());
  return std::nullopt;
}

} // namespace eventide::bench

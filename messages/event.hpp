#pragma once

#include <cstdint>
#include <string>

#include "messages/error_code.hpp"

namespace eventide {

/// The operation of an event (DESIGN.md §2).
enum class op_code : uint8_t { set, incr, del };

/// How a field value is kept. Numbers are typed so that `incr` can add;
/// every other JSON value (string, bool, null, array, object) is kept as its
/// compact JSON text, ready to be written back out.
enum class value_kind : uint8_t { integer, real, raw };

/// Why one line or event was not applied.
struct rejection {
  uint64_t seq = 0;
  std::string id; // empty when it could not be read
  error_code code = error_code::internal;
  std::string detail;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, rejection& x) {
  return f(x.seq, x.id, x.code, x.detail);
}

} // namespace eventide

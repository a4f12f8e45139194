#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "messages/error_code.hpp"

namespace eventide {

/// The operation of an event (DESIGN.md §2).
enum class op_code : uint8_t { set, incr, del };

/// One field value. Numbers are kept typed so that `incr` can add; every
/// other JSON value (string, bool, null, array, object) is kept as its
/// compact JSON text in `raw`, ready to be written back out.
struct field_value {
  enum class kind : uint8_t { integer, real, raw };
  kind type = kind::raw;
  int64_t integer = 0;
  double real = 0;
  std::string raw; // JSON text when type == raw
};

/// One member of an event's `data` object.
struct field {
  std::string name;
  field_value value;
};

/// A validated event, ready for its owning shard.
struct event {
  uint64_t seq = 0; // line number of its connection, or index in a POST body
  std::string id;
  std::string key;
  op_code op = op_code::set;
  bool has_data = false;   // `data` was present (matters for `del`)
  std::vector<field> data; // in the order of the input
  bool has_ts = false;
  int64_t ts = 0; // ms since the Unix epoch
};

/// Why one line or event was not applied.
struct rejection {
  uint64_t seq = 0;
  std::string id; // empty when it could not be read
  error_code code = error_code::internal;
  std::string detail;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, field_value& x) {
  return f(x.type, x.integer, x.real, x.raw);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, field& x) {
  return f(x.name, x.value);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, event& x) {
  return f(x.seq, x.id, x.key, x.op, x.has_data, x.data, x.has_ts, x.ts);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, rejection& x) {
  return f(x.seq, x.id, x.code, x.detail);
}

} // namespace eventide

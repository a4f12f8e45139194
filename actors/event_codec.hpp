#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>
#include <vector>

#include "messages/event.hpp"
#include "messages/event_batch.hpp"

namespace eventide {

/// Input limits of DESIGN.md §2/§9, handed to parse actors at spawn.
struct input_limits {
  std::size_t max_event_bytes = 65536; // longest event line
  std::size_t max_depth = 32;          // deepest JSON nesting
};

/// Decodes and validates one event (one NDJSON line without its '\n', or one
/// element of a POST array) against every rule of DESIGN.md §2. Never
/// throws. A valid event is appended to `out` with `seq` and its key hash
/// (`ts` left 0 and `has_ts` false when absent) and nullopt is returned;
/// otherwise `out` is left as it was and the rejection says why (its `id` is
/// filled when the line had a readable string `id`).
std::optional<rejection> decode_event(std::string_view line, uint64_t seq,
                                      const input_limits& limits,
                                      event_batch& out);

/// True for a line with nothing but JSON whitespace (blank lines are
/// skipped and take a sequence number).
bool is_blank(std::string_view line);

/// Splits an HTTP `application/json` body into its events: the elements of a
/// top-level array, or the body itself when it is one object (or any other
/// single value, which then fails validation as `not_an_object`). Returns
/// nullopt when the body is not JSON at all (HTTP 400); `detail` then says
/// why. The views point into `body`. Duplicate member names are not an error
/// here: they are reported per element by `decode_event`.
std::optional<std::vector<std::string_view>>
split_json_body(std::string_view body, std::size_t max_depth,
                std::string* detail);

} // namespace eventide

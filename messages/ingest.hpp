#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "messages/event.hpp"

namespace eventide {

/// How the bytes of an `ingest_chunk` are framed.
enum class chunk_format : uint8_t {
  ndjson,     // lines separated by '\n'; the last one may lack it
  json_value, // one HTTP body: a JSON array of events or one event object
};

/// Raw input handed from a network session to a parse actor.
///
/// For `ndjson`, line i of `data` (0-based) has sequence number
/// `first_seq + i`, except that the numbers listed in `oversized` (sorted)
/// belong to lines the framer dropped for being longer than the limit: they
/// are not in `data` and are reported as `too_large`. `line_count` is the
/// total count of sequence numbers the chunk covers (data lines plus
/// oversized), so `first_seq + line_count - 1` is its last number.
/// For `json_value`, elements of the array take `first_seq + index`.
struct ingest_chunk {
  chunk_format format = chunk_format::ndjson;
  uint64_t first_seq = 1;
  uint64_t line_count = 0;
  std::string data;
  std::vector<uint64_t> oversized;
};

/// What became of one chunk: covers sequence numbers
/// [first_seq, first_seq + line_count). `rejected` is sorted by seq.
struct chunk_result {
  uint64_t first_seq = 0;
  uint64_t line_count = 0;
  uint64_t applied = 0;
  uint64_t duplicates = 0;
  std::vector<rejection> rejected;
  /// For `json_value` chunks that were not JSON at all (HTTP 400).
  bool not_json = false;
  std::string not_json_detail;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, ingest_chunk& x) {
  return f(x.format, x.first_seq, x.line_count, x.data, x.oversized);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, chunk_result& x) {
  return f(x.first_seq, x.line_count, x.applied, x.duplicates, x.rejected,
           x.not_json, x.not_json_detail);
}

} // namespace eventide

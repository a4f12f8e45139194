#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "messages/error_code.hpp"
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
  /// At most this many rejections are listed in the result (0: all of them);
  /// the rest are only counted. HTTP sets it, so that a large body of bad
  /// lines cannot make the answer, or the engine's memory, grow with it;
  /// TCP lists every one (each rejected line gets its error line).
  uint32_t list_limit = 0;
};

/// What became of one chunk: covers sequence numbers
/// [first_seq, first_seq + line_count). `rejected` is sorted by seq.
struct chunk_result {
  uint64_t first_seq = 0;
  uint64_t line_count = 0;
  uint64_t applied = 0;
  uint64_t duplicates = 0;
  std::vector<rejection> rejected;
  /// Rejections beyond the chunk's `list_limit`, counted by error code
  /// (indexed by `error_code`; empty when none were left out).
  std::vector<uint64_t> unlisted;
  /// For `json_value` chunks that were not JSON at all (HTTP 400).
  bool not_json = false;
  std::string not_json_detail;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, ingest_chunk& x) {
  return f(x.format, x.first_seq, x.line_count, x.data, x.oversized,
           x.list_limit);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, chunk_result& x) {
  return f(x.first_seq, x.line_count, x.applied, x.duplicates, x.rejected,
           x.unlisted, x.not_json, x.not_json_detail);
}

/// Adds `rej` to `r`: listed while fewer than `limit` are (0: no limit),
/// otherwise only counted in `unlisted`.
inline void add_rejection(chunk_result& r, rejection&& rej, uint32_t limit) {
  if (limit == 0 || r.rejected.size() < limit) {
    r.rejected.push_back(std::move(rej));
    return;
  }
  if (r.unlisted.empty())
    r.unlisted.resize(error_code_count);
  ++r.unlisted[static_cast<std::size_t>(rej.code)];
}

/// Every rejection of `r`, listed or not.
inline uint64_t rejected_count(const chunk_result& r) {
  uint64_t n = r.rejected.size();
  for (auto k : r.unlisted)
    n += k;
  return n;
}

} // namespace eventide

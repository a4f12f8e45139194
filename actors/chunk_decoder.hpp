#pragma once

#include <cstdint>
#include <vector>

#include "actors/event_codec.hpp"
#include "messages/ingest.hpp"

namespace eventide {

/// A chunk cut into per-shard event lists plus the rejections the codec
/// found (sorted by seq).
struct decoded_chunk {
  chunk_result result;                       // counts and parse rejections
  std::vector<std::vector<event>> per_shard; // index = shard
};

/// Decodes every line (or JSON body element) of `chunk`: blank lines are
/// skipped, lines listed in `chunk.oversized` become `too_large`, events
/// without `ts` get `now_ms`, and valid events are grouped by owning shard
/// in input order. Plain C++: the parse actor and the benchmarks share it.
void decode_chunk(const ingest_chunk& chunk, uint32_t shards,
                  const input_limits& limits, int64_t now_ms,
                  decoded_chunk& out);

} // namespace eventide

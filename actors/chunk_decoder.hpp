#pragma once

#include <cstdint>
#include <vector>

#include "actors/event_codec.hpp"
#include "messages/event_batch.hpp"
#include "messages/ingest.hpp"

namespace eventide {

/// Where an event of `decoded_chunk::scratch` goes, and its strings.
struct event_route {
  uint32_t shard = 0;
  event_batch::span strings; // in scratch.text
};

/// A chunk cut into one batch per shard plus the rejections the codec found
/// (sorted by seq). Reused from chunk to chunk: `scratch` and `routes` keep
/// their capacity; a `per_shard` batch may be moved out and is refilled.
struct decoded_chunk {
  chunk_result result;                // counts and parse rejections
  std::vector<event_batch> per_shard; // index = shard, exactly sized
  event_batch scratch;                // every valid event of the chunk
  std::vector<event_route> routes;    // one per event in `scratch`
};

/// Decodes every line (or JSON body element) of `chunk`: blank lines are
/// skipped, lines listed in `chunk.oversized` become `too_large`, events
/// without `ts` get `now_ms`, and valid events are grouped by owning shard
/// in input order. Plain C++: the parse actor and the benchmarks share it.
void decode_chunk(const ingest_chunk& chunk, uint32_t shards,
                  const input_limits& limits, int64_t now_ms,
                  decoded_chunk& out);

} // namespace eventide

#pragma once

#include <cstdint>
#include <vector>

#include <caf/actor.hpp>
#include <caf/fwd.hpp>
#include <caf/timespan.hpp>

#include "actors/event_codec.hpp"

namespace eventide {

/// Spawns parse actor `index`. It turns `ingest_chunk`s into typed events,
/// sends one `event_batch` per owning shard (through the placement table
/// `shards`, index = shard) and replies a `chunk_result` once every shard
/// answered. Also handles `stats_atom` (replies `parser_stats`).
caf::actor spawn_parser(caf::actor_system& sys, uint32_t index,
                        std::vector<caf::actor> shards, input_limits limits,
                        caf::timespan shard_timeout);

} // namespace eventide

#pragma once

#include <cstdint>

#include <caf/fwd.hpp>

#include "actors/shard_store.hpp"

namespace eventide {

/// Spawns the actor that owns shard `index`: the only code that touches the
/// shard's records. Handles `apply_atom`, `lookup_atom`, `erase_atom`,
/// `stats_atom` and `ready_atom` (see messages/messages.hpp).
caf::actor spawn_shard(caf::actor_system& sys, uint32_t index,
                       shard_limits limits);

} // namespace eventide

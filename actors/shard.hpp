#pragma once

#include <chrono>
#include <cstdint>
#include <memory>

#include <caf/actor.hpp>
#include <caf/fwd.hpp>
#include <caf/timespan.hpp>

#include "actors/shard_store.hpp"

namespace eventide {

/// How a shard actor runs.
struct shard_options {
  shard_limits limits;
  /// A batch that keeps the shard busy longer than this is logged (at most
  /// one line per shard per `slow_log_interval`).
  caf::timespan slow_batch = std::chrono::milliseconds(250);
  caf::timespan slow_log_interval = std::chrono::seconds(10);
  /// Durability: the storage actor (null in memory mode), the state
  /// recovered from the data dir (null: start empty) and the seq of the
  /// next batch (one after the last recovered).
  caf::actor storage{};
  std::shared_ptr<shard_store> recovered{};
  uint64_t next_seq = 1;
  /// In a cluster the shard keeps every request until its node actor
  /// tells it its role (messages/cluster.hpp `shard_role`).
  bool clustered = false;
};

/// Spawns the actor that owns shard `index`: the only code that touches the
/// shard's records. Handles `apply_atom`, `lookup_atom`, `erase_atom`,
/// `stats_atom`, `ready_atom` (see messages/messages.hpp), `introspect_atom`
/// and `tap_atom` (messages/introspection.hpp). With a storage actor, a
/// batch is acknowledged only once it is durable; when storage fails, the
/// shard answers every batch with `unavailable` (applying nothing) and
/// re-sends the batches that were not written, once a second, until they
/// are; `ready_atom` answers false meanwhile.
caf::actor spawn_shard(caf::actor_system& sys, uint32_t index,
                       shard_options options);

} // namespace eventide

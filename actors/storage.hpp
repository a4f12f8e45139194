#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include <caf/fwd.hpp>
#include <caf/timespan.hpp>

#include "actors/wal_log.hpp"

namespace eventide {

/// When an append counts as durable (storage.fsync).
enum class fsync_policy { always, batch, none };

/// How the storage actor runs.
struct storage_options {
  std::string dir;
  uint32_t shards = 0;
  fsync_policy policy = fsync_policy::batch;
  /// Group commit: appends wait at most this long for one shared fsync.
  caf::timespan interval = std::chrono::milliseconds(2);
  uint64_t segment_bytes = 64u << 20;
  /// WAL bytes written between two rounds of snapshots.
  uint64_t snapshot_bytes = 256u << 20;
};

/// Spawns the storage actor on its own thread (detached), so that disk
/// writes and fsyncs never hold up the actors that parse and apply. It owns
/// the WAL: shards send it `append_atom` (shard, seq, batch bytes) and get
/// the seq back once the batch is durable under the policy, or an error.
/// Every `snapshot_bytes` of log it asks each shard for a snapshot
/// (`snapshot_atom`), writes it, and deletes the segments snapshots cover.
/// `next_seq[s]` is the seq it expects next from shard s; an append out of
/// order (after a failure, until the shard re-sends) is refused.
caf::actor spawn_storage(caf::actor_system& sys, storage_options options,
                         std::vector<wal_segment> segments,
                         std::vector<uint64_t> next_seq);

} // namespace eventide

#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include <caf/atom.hpp>
#include <caf/meta/type_name.hpp>

#include "messages/error_code.hpp"

namespace eventide {

/// shard -> storage: make (shard, seq, payload) durable; replies the seq
/// once the configured fsync policy is met, an error otherwise.
using append_atom = caf::atom_constant<caf::atom("append")>;
/// storage -> shard: send a snapshot; shard -> storage: here it is.
using snapshot_atom = caf::atom_constant<caf::atom("snapshot")>;
/// storage, self-sent: the group-commit interval ended.
using flush_atom = caf::atom_constant<caf::atom("flush")>;

/// One stored field of a record in a snapshot (shard_store's value types).
struct snapshot_field {
  std::string name;
  uint8_t type = 0; // 0 integer, 1 real, 2 raw JSON text
  int64_t integer = 0;
  double real = 0;
  std::string raw;
};

/// One record (DESIGN.md §3) in a snapshot.
struct snapshot_record {
  std::string key;
  std::vector<snapshot_field> fields;
  uint64_t events = 0;
  uint64_t version = 0;
  int64_t first_ts = 0;
  int64_t last_ts = 0;
};

/// The whole state of one shard at batch `seq`: its records, its de-dup
/// window (oldest first, two 64-bit halves per fingerprint) and counters.
struct shard_snapshot {
  uint32_t shard = 0;
  uint64_t seq = 0; // the last batch the snapshot includes
  std::vector<snapshot_record> records;
  std::vector<uint64_t> dedup; // lo, hi, lo, hi, ...
  uint64_t events_applied = 0;
  uint64_t duplicates = 0;
  std::array<uint64_t, error_code_count> rejected{};
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, snapshot_field& x) {
  return f(caf::meta::type_name("snapshot_field"), x.name, x.type, x.integer,
           x.real, x.raw);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, snapshot_record& x) {
  return f(caf::meta::type_name("snapshot_record"), x.key, x.fields, x.events,
           x.version, x.first_ts, x.last_ts);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, shard_snapshot& x) {
  return f(caf::meta::type_name("shard_snapshot"), x.shard, x.seq, x.records,
           x.dedup, x.events_applied, x.duplicates, x.rejected);
}

} // namespace eventide

#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include <caf/atom.hpp>
#include <caf/meta/type_name.hpp>

#include "actors/shard_store.hpp"
#include "messages/error_code.hpp"
#include "messages/event.hpp"
#include "messages/event_batch.hpp"
#include "messages/ingest.hpp"

namespace caf {
class actor_system_config;
class error;
} // namespace caf

namespace eventide {

// Atoms name the messages between actors (≤ 10 characters in CAF 0.17).

/// parser -> shard: apply an `event_batch`; replies `apply_outcome`.
using apply_atom = caf::atom_constant<caf::atom("apply")>;
/// session/front end -> parser: parse and apply an `ingest_chunk`.
using ingest_atom = caf::atom_constant<caf::atom("ingest")>;
/// query one key; replies `key_reply`.
using lookup_atom = caf::atom_constant<caf::atom("lookup")>;
/// delete one key; replies bool (existed).
using erase_atom = caf::atom_constant<caf::atom("erase")>;
/// ask an actor for its counters.
using stats_atom = caf::atom_constant<caf::atom("stats")>;
/// readiness probe; replies bool.
using ready_atom = caf::atom_constant<caf::atom("ready")>;
/// self-sent periodic tick.
using tick_atom = caf::atom_constant<caf::atom("tick")>;

/// The answer to a key query: the rendered record when found.
struct key_reply {
  bool found = false;
  std::string record; // DESIGN.md §3 JSON
};

/// Counters of one parse actor.
struct parser_stats {
  uint32_t index = 0;
  uint64_t chunks = 0;
  uint64_t lines = 0;
  uint64_t bytes = 0;
  std::array<uint64_t, error_code_count> rejected{}; // by error_code
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, event_batch& x) {
  return f(caf::meta::type_name("event_batch"), x.shard, x.text, x.events,
           x.fields);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, key_reply& x) {
  return f(caf::meta::type_name("key_reply"), x.found, x.record);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, parser_stats& x) {
  return f(caf::meta::type_name("parser_stats"), x.index, x.chunks, x.lines,
           x.bytes, x.rejected);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, apply_outcome& x) {
  return f(caf::meta::type_name("apply_outcome"), x.applied, x.duplicates,
           x.rejected);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, shard_store_stats& x) {
  return f(caf::meta::type_name("shard_store_stats"), x.shard, x.keys,
           x.bytes, x.events_applied, x.duplicates, x.rejected, x.dedup_ids,
           x.dedup_capacity);
}

/// The wire code for a failure between actors: an error made by
/// `make_error(error_code, ...)` keeps its code, a timeout means the engine
/// is overloaded, anything else is an internal fault.
error_code error_code_of(const caf::error& err);

/// An error between actors that carries a wire code (e.g. `unavailable`
/// when a shard's node is unreachable) and a detail for the client.
caf::error make_error(error_code code, std::string detail);

/// True when `err` was made by `make_error(error_code, ...)`: an answer of
/// eventide's own, not a transport failure.
bool carries_code(const caf::error& err);

/// Registers every message type with CAF so that they can cross the
/// network once the cluster lands.
void register_message_types(caf::actor_system_config& cfg);

} // namespace eventide

#pragma once

#include <functional>

#include <caf/actor.hpp>
#include <caf/fwd.hpp>
#include <caf/timespan.hpp>

#include "messages/ingest.hpp"

namespace eventide {

/// Called with the result of each chunk, on an actor thread.
using chunk_callback = std::function<void(chunk_result)>;

/// Spawns the actor behind one ingest connection. It forwards every
/// `ingest_chunk` it gets to its one parse actor (so a connection's events
/// keep their order per key, DESIGN.md §1) and hands each result to
/// `deliver`. A chunk the engine fails to answer comes back with every line
/// rejected as `overloaded` or `internal`: never silently dropped.
/// `peer` names the client (`ip:port`) in the admin console.
caf::actor spawn_session(caf::actor_system& sys, caf::actor parser,
                         chunk_callback deliver, caf::timespan timeout,
                         std::string peer);

/// The result for a chunk that the engine could not process: every line of
/// it rejected with `code`.
chunk_result failed_chunk(uint64_t first_seq, uint64_t line_count,
                          error_code code, const std::string& detail);

} // namespace eventide

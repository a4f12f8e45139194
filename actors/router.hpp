#pragma once

#include <string>
#include <vector>

#include <caf/actor.hpp>
#include <caf/fwd.hpp>
#include <caf/timespan.hpp>

namespace eventide {

/// Spawns the router: it holds the placement table `shard -> actor` and
/// answers key queries (`lookup_atom`, `erase_atom` with a key), totals
/// (`stats_atom` -> `system_totals`), readiness (`ready_atom` -> bool) and
/// the admin console: it keeps the directory of actors (sessions and
/// listeners announce themselves with `join_atom`), answers `introspect_atom`
/// (all actors, or one by id in depth) and routes `tap_atom` to the shard
/// that owns a key. `node` names this node in every answer. Every
/// `summary_interval` it logs one line summarising rejected events, only
/// when there were any (DESIGN.md §8).
caf::actor spawn_router(caf::actor_system& sys, std::vector<caf::actor> shards,
                        std::vector<caf::actor> parsers,
                        caf::timespan query_timeout,
                        caf::timespan summary_interval, std::string node);

} // namespace eventide

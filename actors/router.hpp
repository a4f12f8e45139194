#pragma once

#include <vector>

#include <caf/actor.hpp>
#include <caf/fwd.hpp>
#include <caf/timespan.hpp>

namespace eventide {

/// Spawns the router: it holds the placement table `shard -> actor` and
/// answers key queries (`lookup_atom`, `erase_atom` with a key), totals
/// (`stats_atom` -> JSON text) and readiness (`ready_atom` -> bool). Every
/// `summary_interval` it logs one line summarising rejected events, only
/// when there were any (DESIGN.md §8).
caf::actor spawn_router(caf::actor_system& sys, std::vector<caf::actor> shards,
                        std::vector<caf::actor> parsers,
                        caf::timespan query_timeout,
                        caf::timespan summary_interval);

} // namespace eventide

#pragma once

#include <cstdint>
#include <functional>
#include <string>

#include <caf/fwd.hpp>

namespace eventide {

/// What a network listener counts (it lives on the I/O side).
struct listener_counts {
  uint64_t accepted = 0;
  uint64_t open = 0;
};

/// Spawns the actor that stands for a network listener (the TCP ingest or
/// the HTTP acceptor) in the admin console. The listener itself runs on the
/// I/O threads; this actor reads its counters through `read` (which must be
/// safe to call from any thread) when asked with `introspect_atom`.
caf::actor spawn_listener_probe(caf::actor_system& sys, std::string name,
                                std::string address,
                                std::function<listener_counts()> read);

} // namespace eventide

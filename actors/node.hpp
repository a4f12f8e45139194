#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include <caf/actor.hpp>
#include <caf/fwd.hpp>
#include <caf/timespan.hpp>

namespace eventide {

/// How a node actor runs (the cluster.* options).
struct node_options {
  std::string cluster;  // cluster.name: peers must share it
  std::string name;     // cluster.node-name
  uint32_t shards = 0;  // engine.shards: peers must share it
  std::vector<std::string> seeds; // host:port of members to join through
  /// Where membership and the held shards survive a restart
  /// (storage.data-dir/CLUSTER); empty in memory mode.
  std::string state_file;
  caf::timespan tick = std::chrono::milliseconds(500);
  caf::timespan request_timeout = std::chrono::seconds(5);
  caf::timespan handoff_timeout = std::chrono::seconds(30);
  /// Connect to peers through CAF's OpenSSL module (cluster.tls-*).
  bool tls = false;
};

/// What the node knew when it last stopped (read from `state_file`).
struct node_memory {
  bool found = false;                 // a state file was there
  std::vector<uint32_t> held;         // shards whose data it holds
  std::vector<std::string> peers;     // addresses of the other members
  std::vector<std::string> removed;   // names removed by an operator
};

/// Reads the state file; `found` is false when there is none. Throws
/// std::runtime_error when it is damaged or belongs to another node or
/// cluster.
node_memory load_node_memory(const node_options& options);

/// Calls into the server from the node actor (on an actor thread).
struct node_hooks {
  /// The cluster refused this node (handshake mismatch, removed): the
  /// server logs `why` and stops with an error.
  std::function<void(std::string why)> refused;
  /// This node finished leaving: the server stops.
  std::function<void()> left;
};

/// Spawns the node actor: this node's member of the cluster (DESIGN.md §7).
/// It keeps the membership (every member, its address, whether it is
/// reachable, which shards' data it holds), joins through the seeds, gossips
/// to every member each tick, monitors every peer's node actor (a `down_msg`
/// marks it unreachable; CAF's heartbeat turns a frozen peer into one), and
/// computes the placement shard -> node by rendezvous hashing over the
/// members that are not leaving. From the placement it tells each local
/// shard its role (serve, await a handoff, hand off, forward) and sends the
/// route table to the parsers and the router. `shards` are this node's
/// shard actors, `held` the shards whose data it holds at start.
/// The actor must then get `(join_atom, address)` with the host:port it was
/// published on; only then does it contact the seeds.
caf::actor spawn_node(caf::actor_system& sys, node_options options,
                      std::vector<caf::actor> shards,
                      std::vector<caf::actor> parsers, caf::actor router,
                      node_memory memory, node_hooks hooks);

} // namespace eventide

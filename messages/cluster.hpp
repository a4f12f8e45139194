#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <caf/actor.hpp>
#include <caf/atom.hpp>
#include <caf/meta/type_name.hpp>

namespace eventide {

// Messages between the node actors of a cluster (actors/node.hpp) and from
// a node actor to its own shards, parsers and router. Everything here
// crosses the network, so every type is registered in registry.cpp.

/// Bumped whenever a message below changes shape; a peer with another
/// version is refused at the handshake.
inline constexpr uint32_t cluster_protocol_version = 1;

/// joiner -> member: (hello_atom, member_record, handshake); replies the
/// member's `membership` or an error naming the mismatch.
using hello_atom = caf::atom_constant<caf::atom("hello")>;
/// node -> node, periodic: (gossip_atom, membership).
using gossip_atom = caf::atom_constant<caf::atom("gossip")>;
/// node -> its parsers and router: (route_atom, route_table).
using route_atom = caf::atom_constant<caf::atom("route")>;
/// node -> its shard: (role_atom, shard_role).
using role_atom = caf::atom_constant<caf::atom("role")>;
/// old owner's shard -> new owner's shard: (handoff_atom, snapshot bytes);
/// replies true when installed, false when the receiver already holds it.
using handoff_atom = caf::atom_constant<caf::atom("handoff")>;
/// shard -> its node: (moved_atom, shard, holds): it now holds the shard
/// (handoff received or taken empty) or no longer does (handed off).
using moved_atom = caf::atom_constant<caf::atom("moved")>;
/// any -> node: (leave_atom, node name): that node hands off and stops.
using leave_atom = caf::atom_constant<caf::atom("leave")>;
/// any -> node: (remove_atom, node name): forget a dead member.
using remove_atom = caf::atom_constant<caf::atom("remove")>;
/// front end -> node: (cluster_atom) replies cluster_view.
using cluster_atom = caf::atom_constant<caf::atom("cluster")>;
/// node -> node: (bye_atom, node name): that member finished leaving.
using bye_atom = caf::atom_constant<caf::atom("bye")>;
/// router -> router: (introspect_atom, local_atom): this node's actors only.
using local_atom = caf::atom_constant<caf::atom("local")>;

/// What a joining node must share with the cluster.
struct handshake {
  std::string cluster;
  uint32_t protocol = cluster_protocol_version;
  uint32_t shards = 0;
};

/// One member as its own node describes it; only that node changes it
/// (bumping `version`), every other node keeps the newest copy it saw.
struct member_record {
  std::string node;     // cluster.node-name
  std::string address;  // host:port of its published node actor
  uint64_t incarnation = 0; // start time (ms): a restart is a new one
  uint64_t version = 0;     // bumped on every change by its node
  bool leaving = false;
  std::vector<uint32_t> held; // shards whose data it holds
  caf::actor node_actor;
  caf::actor router;
  std::vector<caf::actor> shards; // its shard actors, by index
};

/// The members a node knows, and the names removed by an operator.
struct membership {
  uint64_t epoch = 0;
  std::vector<member_record> members;
  std::vector<std::string> removed;
};

/// Where each shard's batches and queries go (node -> parsers, router).
struct route_table {
  uint64_t epoch = 0;
  std::vector<caf::actor> shards;  // the owner's shard actor
  std::vector<uint8_t> available;  // 0: the owner is unreachable
  std::vector<std::string> owners; // node names, for error details
  std::vector<caf::actor> routers; // the reachable peers' routers
  std::vector<std::string> router_nodes; // their node names
};

/// What a node actor tells one of its shards about its part in the
/// placement. `serve`: it owns and holds the shard. `await`: it owns it and
/// waits for the holder's handoff (`empty`: no member holds the shard, so it
/// starts empty). `hand_off`: it holds a shard another node owns and sends
/// its state to `target`. `forward`: it neither owns nor holds the shard;
/// stray messages go to `target`.
struct shard_role {
  enum class kind : uint8_t { serve, await, hand_off, forward };
  kind what = kind::serve;
  bool empty = false;
  caf::actor target;
  std::string target_node;
  uint64_t epoch = 0;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, handshake& x) {
  return f(caf::meta::type_name("handshake"), x.cluster, x.protocol,
           x.shards);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, member_record& x) {
  return f(caf::meta::type_name("member_record"), x.node, x.address,
           x.incarnation, x.version, x.leaving, x.held, x.node_actor,
           x.router, x.shards);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, membership& x) {
  return f(caf::meta::type_name("membership"), x.epoch, x.members,
           x.removed);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, route_table& x) {
  return f(caf::meta::type_name("route_table"), x.epoch, x.shards,
           x.available, x.owners, x.routers, x.router_nodes);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, shard_role& x) {
  return f(caf::meta::type_name("shard_role"), x.what, x.empty, x.target,
           x.target_node, x.epoch);
}

} // namespace eventide

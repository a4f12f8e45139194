#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include <caf/atom.hpp>
#include <caf/meta/type_name.hpp>

#include "messages/error_code.hpp"

namespace eventide {

/// Ask one actor for its `actor_info`; `true` asks for the kind-specific
/// detail as well. Sent with high priority so that a flooded mailbox does
/// not delay the answer (caf-0.17-notes §5).
using introspect_atom = caf::atom_constant<caf::atom("introspect")>;
/// Announce an actor (a session, a listener) to the router's directory.
using join_atom = caf::atom_constant<caf::atom("join")>;

/// Subscribe a tap sink to a shard: (tap_atom, sink, key or "", rate/s).
using tap_atom = caf::atom_constant<caf::atom("tap")>;

/// One event seen by a tap (GET /v1/tap), or a note that `dropped` events
/// were sampled away by the rate limit (then only `shard` is set).
struct tap_record {
  enum class outcome : uint8_t { applied, duplicate, rejected };
  int64_t t_ms = 0; // wall clock, ms since the Unix epoch
  uint32_t shard = 0;
  uint64_t seq = 0;
  std::string id;
  std::string key;
  uint8_t op = 0; // op_code
  outcome result = outcome::applied;
  error_code error = error_code::internal; // when rejected
  uint64_t dropped = 0;
};

/// What every actor reports about itself (GET /v1/actors, DESIGN.md §5).
struct actor_info {
  uint64_t id = 0;
  std::string name;
  std::string kind; // listener, session, parser, shard, router, node
  std::string node; // filled in by the router
  int32_t shard = -1;
  uint64_t mailbox = 0;   // messages waiting
  uint64_t processed = 0; // messages handled
  uint64_t applied = 0;   // events applied / routed / acknowledged
  uint64_t rejected = 0;  // events rejected by this actor
  uint64_t keys = 0;
  uint64_t bytes = 0; // approximate bytes held
  uint64_t busy_ns = 0;
  uint64_t uptime_ms = 0;
  bool has_error = false;
  error_code error = error_code::internal;
  std::string error_detail;
  uint64_t error_age_ms = 0;
  /// The kind-specific detail as a JSON object (only when asked for).
  std::string detail;
};

/// Totals over every shard and parser of a node (GET /v1/stats).
struct system_totals {
  std::string node;
  uint64_t accepted = 0;
  uint64_t duplicates = 0;
  uint64_t keys = 0;
  uint64_t bytes = 0;
  std::array<uint64_t, error_code_count> rejected{};
  uint32_t shards = 0;
  /// Shards left out of the totals: their node is unreachable (cluster).
  uint32_t shards_unavailable = 0;
  uint32_t parsers = 0;
  uint64_t uptime_ms = 0;

  uint64_t rejected_total() const {
    uint64_t n = 0;
    for (auto x : rejected)
      n += x;
    return n;
  }
};

/// One member of the cluster as GET /v1/cluster shows it.
struct member_view {
  std::string node;
  std::string address; // host:port of its cluster endpoint; empty standalone
  std::string state;   // joining, up, leaving, unreachable
  uint32_t shards = 0; // shards it owns
  uint32_t held = 0;   // shards whose data it holds (differs during handoff)
};

/// This node's view of the cluster (GET /v1/cluster, DESIGN.md §5).
struct cluster_view {
  std::string self;
  uint64_t epoch = 0;
  std::vector<member_view> members;
  std::vector<std::string> placement; // shard index -> node
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, member_view& x) {
  return f(caf::meta::type_name("member_view"), x.node, x.address, x.state,
           x.shards, x.held);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, cluster_view& x) {
  return f(caf::meta::type_name("cluster_view"), x.self, x.epoch, x.members,
           x.placement);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, actor_info& x) {
  return f(caf::meta::type_name("actor_info"), x.id, x.name, x.kind, x.node,
           x.shard, x.mailbox, x.processed, x.applied, x.rejected, x.keys,
           x.bytes, x.busy_ns, x.uptime_ms, x.has_error, x.error,
           x.error_detail, x.error_age_ms, x.detail);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, tap_record& x) {
  return f(caf::meta::type_name("tap_record"), x.t_ms, x.shard, x.seq, x.id,
           x.key, x.op, x.result, x.error, x.dropped);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, system_totals& x) {
  return f(caf::meta::type_name("system_totals"), x.node, x.accepted, x.duplicates,
           x.keys, x.bytes, x.rejected, x.shards, x.shards_unavailable,
           x.parsers, x.uptime_ms);
}

} // namespace eventide

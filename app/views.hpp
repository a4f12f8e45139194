#pragma once

#include <string>
#include <vector>

#include "app/http_api.hpp"
#include "app/tcp_ingest.hpp"
#include "messages/introspection.hpp"

namespace eventide {

/// The front ends' counters, read on the I/O side at request time.
struct front_counts {
  ingest_stats tcp;
  http_stats http;
  auth_stats auth{}; // shared by both front ends
};

// Renderers of the admin API (DESIGN.md §5): engine data in, JSON out. Kept
// apart from the routes so that the console, eventide-ctl and tests see one
// shape.

/// GET /v1/stats.
std::string render_stats(const system_totals& totals,
                         const front_counts& front);

/// One actor; `with_detail` adds the kind-specific "detail" object.
std::string render_actor(const actor_info& info, bool with_detail);

/// GET /v1/actors.
std::string render_actors(const std::string& node,
                          const std::vector<actor_info>& actors);

/// GET /v1/cluster.
std::string render_cluster(const cluster_view& view);

/// One line of GET /v1/tap, without the newline.
std::string render_tap_record(const tap_record& rec);

/// GET /metrics: Prometheus text exposition format 0.0.4.
std::string render_metrics(const system_totals& totals,
                           const std::vector<actor_info>& actors,
                           const front_counts& front);

} // namespace eventide

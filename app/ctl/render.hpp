#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <boost/json/object.hpp>

namespace eventide::ctl {

/// Human views of the server's JSON answers. Pure functions from JSON to
/// text, so they are unit-tested without a server.

/// GET /v1/actors as a table, filtered by kind and sorted by a column
/// (id, name, kind, shard ascending; counters largest first).
std::string render_actors(const boost::json::object& doc,
                          std::string_view kind_filter,
                          std::string_view sort_by);

/// GET /v1/actors/{id}: the actor's members, then its detail.
std::string render_actor(const boost::json::object& actor);

/// GET /v1/keys/{key}: the record with its fields one per line.
std::string render_record(const boost::json::object& record);

/// GET /v1/stats: totals with rates since start and ack latency.
std::string render_stats(const boost::json::object& stats);

/// GET /v1/cluster: members and a per-node placement summary.
std::string render_cluster(const boost::json::object& cluster);

/// One /v1/tap line; "" for lines not worth showing (heartbeats).
std::string render_tap_line(const boost::json::object& line);

/// "error: code: detail" for a non-200 answer (JSON or not).
std::string render_server_error(unsigned status, std::string_view body);

/// "0-3,7,9-12" for a sorted list of shard indices.
std::string compress_ranges(const std::vector<uint64_t>& sorted);

/// The upper bound (µs) of the bucket holding quantile `q` of a latency
/// histogram with bounds `le_us` and non-cumulative `counts` (one more
/// than the bounds); nullopt when it is in the overflow bucket or empty.
std::optional<uint64_t> histogram_quantile(const std::vector<uint64_t>& le_us,
                                           const std::vector<uint64_t>& counts,
                                           double q);

} // namespace eventide::ctl

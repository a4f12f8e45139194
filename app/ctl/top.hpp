#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include <boost/json/object.hpp>

#include "app/ctl/http_client.hpp"
#include "app/ctl/options.hpp"

namespace eventide::ctl {

/// The counters of one actor at one poll of /v1/actors.
struct actor_counters {
  std::string name;
  std::string kind;
  uint64_t mailbox = 0;
  uint64_t processed = 0;
  uint64_t applied = 0;
  uint64_t busy_ns = 0;
  uint64_t uptime_ms = 0;
};

/// One poll: actor id -> counters.
using actors_sample = std::map<uint64_t, actor_counters>;

actors_sample to_sample(const boost::json::object& actors_doc);

/// One line of the top view: what an actor did over the interval.
struct top_row {
  uint64_t id = 0;
  std::string name;
  std::string kind;
  double busy_share = 0;      // busy time / wall time, 0..1 per core
  double processed_rate = 0;  // messages per second
  double applied_rate = 0;    // events per second
  uint64_t mailbox = 0;
};

/// Rows over the interval from `before` to `now` (`seconds` apart), busiest
/// first. Without `before` (the first view) the rates are since each
/// actor's start (its uptime_ms). New actors count from zero.
std::vector<top_row> compute_top(const actors_sample* before,
                                 const actors_sample& now, double seconds);

/// The view: a header line, then at most `max_rows` rows as a table.
std::string render_top(const std::vector<top_row>& rows,
                       const std::string& header, size_t max_rows);

/// The top command; returns the exit code.
int run_top(const command& cmd, http_client& http, bool json);

} // namespace eventide::ctl

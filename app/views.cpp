#include "app/views.hpp"

#include <boost/json.hpp>

#include "messages/event.hpp"

namespace eventide {

namespace json = boost::json;

namespace {

json::object by_code(const std::array<uint64_t, error_code_count>& counts,
                     bool with_zeros) {
  json::object out;
  for (std::size_t i = 0; i < error_code_count; ++i)
    if (with_zeros || counts[i] > 0)
      out[to_string(static_cast<error_code>(i))] = counts[i];
  return out;
}

json::object latency_object(const latency_snapshot& s) {
  json::array bounds;
  for (auto b : latency_bounds_us)
    bounds.push_back(b);
  json::array counts;
  for (auto c : s.counts)
    counts.push_back(c);
  return {{"le_us", std::move(bounds)},
          {"counts", std::move(counts)},
          {"count", s.count},
          {"sum_us", s.sum_us}};
}

json::object actor_object(const actor_info& info) {
  json::object out{
    {"id", info.id},
    {"name", info.name},
    {"kind", info.kind},
    {"node", info.node},
    {"shard", nullptr},
    {"mailbox", info.mailbox},
    {"processed", info.processed},
    {"applied", info.applied},
    {"rejected", info.rejected},
    {"keys", info.keys},
    {"bytes", info.bytes},
    {"busy_ns", info.busy_ns},
    {"uptime_ms", info.uptime_ms},
    {"last_error", nullptr},
  };
  if (info.shard >= 0)
    out["shard"] = info.shard;
  if (info.has_error)
    out["last_error"] = json::object{{"code", to_string(info.error)},
                                     {"detail", info.error_detail},
                                     {"age_ms", info.error_age_ms}};
  return out;
}

std::string_view op_name(uint8_t op) {
  switch (static_cast<op_code>(op)) {
    case op_code::set:
      return "set";
    case op_code::incr:
      return "incr";
    case op_code::del:
      return "del";
  }
  return "unknown";
}

std::string_view outcome_name(tap_record::outcome o) {
  switch (o) {
    case tap_record::outcome::applied:
      return "applied";
    case tap_record::outcome::duplicate:
      return "duplicate";
    case tap_record::outcome::rejected:
      return "rejected";
  }
  return "unknown";
}

} // namespace

std::string render_stats(const system_totals& t, const front_counts& front) {
  auto inflight = front.tcp.lines_submitted >= front.tcp.lines_acked
                    ? front.tcp.lines_submitted - front.tcp.lines_acked
                    : 0;
  json::object out{
    {"node", t.node},
    {"accepted", t.accepted},
    {"duplicates", t.duplicates},
    {"rejected", t.rejected_total()},
    {"rejected_by_code", by_code(t.rejected, true)},
    {"keys", t.keys},
    {"bytes", t.bytes},
    {"shards", t.shards},
    {"shards_unavailable", t.shards_unavailable},
    {"parsers", t.parsers},
    {"uptime_seconds", t.uptime_ms / 1000},
    {"ingest",
     json::object{
       {"connections", front.tcp.connections_open},
       {"connections_total", front.tcp.connections_accepted},
       {"connections_rejected",
        json::object{{"tcp", front.tcp.connections_rejected},
                     {"http", front.http.connections_rejected}}},
       {"connections_timed_out",
        json::object{{"tcp", front.tcp.connections_timed_out},
                     {"http", front.http.connections_timed_out}}},
       {"http_requests_total", front.http.requests},
       {"bytes_total", front.tcp.bytes_read + front.http.body_bytes},
       {"inflight_events", inflight},
     }},
    {"ack_latency", latency_object(front.tcp.ack_latency)},
    {"auth",
     json::object{
       {"enabled", front.auth.enabled},
       {"failures", json::object{{"missing", front.auth.missing},
                                 {"invalid", front.auth.invalid},
                                 {"scope", front.auth.scope}}},
     }},
  };
  return json::serialize(out);
}

std::string render_actor(const actor_info& info, bool with_detail) {
  auto out = actor_object(info);
  if (with_detail) {
    json::value detail = json::object{};
    if (!info.detail.empty()) {
      json::error_code ec;
      auto parsed = json::parse(info.detail, ec);
      if (!ec)
        detail = std::move(parsed);
    }
    out["detail"] = std::move(detail);
  }
  return json::serialize(out);
}

std::string render_actors(const std::string& node,
                          const std::vector<actor_info>& actors) {
  json::array list;
  list.reserve(actors.size());
  for (const auto& info : actors)
    list.push_back(actor_object(info));
  json::object out{{"node", node}, {"actors", std::move(list)}};
  return json::serialize(out);
}

std::string render_cluster(const cluster_view& view) {
  json::array members;
  for (const auto& m : view.members)
    members.push_back(json::object{{"node", m.node},
                                   {"address", m.address},
                                   {"state", m.state},
                                   {"shards", m.shards},
                                   {"held", m.held}});
  json::object placement;
  for (std::size_t i = 0; i < view.placement.size(); ++i)
    placement[std::to_string(i)] = view.placement[i];
  json::object out{{"self", view.self},
                   {"epoch", view.epoch},
                   {"members", std::move(members)},
                   {"placement", std::move(placement)}};
  return json::serialize(out);
}

std::string render_tap_record(const tap_record& rec) {
  if (rec.dropped > 0)
    return json::serialize(json::object{{"t_ms", rec.t_ms},
                                        {"shard", rec.shard},
                                        {"dropped", rec.dropped}});
  json::object out{{"t_ms", rec.t_ms},
                   {"shard", rec.shard},
                   {"seq", rec.seq},
                   {"id", rec.id},
                   {"key", rec.key},
                   {"op", op_name(rec.op)},
                   {"outcome", outcome_name(rec.result)}};
  if (rec.result == tap_record::outcome::rejected)
    out["error"] = to_string(rec.error);
  return json::serialize(out);
}

} // namespace eventide

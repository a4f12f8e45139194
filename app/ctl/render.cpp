#include "app/ctl/render.hpp"

#include <algorithm>
#include <map>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include "app/ctl/format.hpp"
#include "app/ctl/json_view.hpp"

namespace eventide::ctl {

namespace json = boost::json;

namespace {

using R = table::align;

bool numeric_column(std::string_view c) {
  return c != "id" && c != "name" && c != "kind" && c != "shard";
}

std::string member_for_column(std::string_view c) {
  return c == "busy" ? "busy_ns" : std::string{c};
}

/// Shard index for sorting: actors without a shard go last.
uint64_t shard_rank(const json::object& a) {
  const auto* v = a.if_contains("shard");
  return v == nullptr || v->is_null() ? UINT64_MAX : u64_of(v);
}

bool actor_less(const json::object& a, const json::object& b,
                std::string_view column) {
  auto id_less = u64_of(a, "id") < u64_of(b, "id");
  if (column == "name" || column == "kind") {
    auto x = str_of(a, column), y = str_of(b, column);
    return x != y ? x < y : id_less;
  }
  if (column == "shard") {
    auto x = shard_rank(a), y = shard_rank(b);
    return x != y ? x < y : id_less;
  }
  if (numeric_column(column)) {
    auto m = member_for_column(column);
    auto x = u64_of(a, m), y = u64_of(b, m);
    return x != y ? x > y : id_less;
  }
  return id_less;
}

std::vector<const json::object*> select_actors(const json::object& doc,
                                               std::string_view kind_filter,
                                               std::string_view sort_by) {
  std::vector<const json::object*> out;
  if (const auto* actors = array_of(doc, "actors"))
    for (const auto& v : *actors)
      if (const auto* a = v.if_object();
          a != nullptr
          && (kind_filter.empty() || str_of(*a, "kind") == kind_filter))
        out.push_back(a);
  std::stable_sort(out.begin(), out.end(),
                   [&](const json::object* a, const json::object* b) {
                     return actor_less(*a, *b, sort_by);
                   });
  return out;
}

std::string num(const json::object& o, std::string_view name) {
  return std::to_string(u64_of(o, name));
}

/// Member `name` of a JSON object as "k1 v1, k2 v2" (non-zero numbers
/// only when `skip_zero`).
std::string inline_object(const json::object& o, bool skip_zero) {
  std::string out;
  for (const auto& [k, v] : o) {
    if (skip_zero && v.is_number() && u64_of(&v) == 0)
      continue;
    if (!out.empty())
      out += ", ";
    out += std::string{k} + " "
           + (v.is_string() ? std::string{v.get_string()}
                            : json_text(v));
  }
  return out.empty() ? "none" : out;
}

std::string render_last_error(const json::object& actor) {
  const auto* e = object_of(actor, "last_error");
  if (e == nullptr)
    return "none";
  return str_of(*e, "code") + ": " + str_of(*e, "detail") + " ("
         + human_uptime(u64_of(*e, "age_ms") / 1000) + " ago)";
}

std::string render_hot_keys(const json::array& keys) {
  table t{{{"KEY"}, {"EVENTS", R::right}}};
  for (const auto& v : keys)
    if (const auto* k = v.if_object())
      t.add_row({str_of(*k, "key"), num(*k, "events")});
  if (t.rows() == 0)
    return "hot keys: none\n";
  return "hot keys:\n" + t.render();
}

std::string render_rejects(const json::object& by_code) {
  table t{{{"CODE"}, {"COUNT", R::right}}};
  for (const auto& [code, n] : by_code)
    if (u64_of(&n) > 0)
      t.add_row({std::string{code}, std::to_string(u64_of(&n))});
  if (t.rows() == 0)
    return "rejects by code: none\n";
  return "rejects by code:\n" + t.render();
}

std::string render_detail(const json::object& detail) {
  std::vector<std::pair<std::string, std::string>> pairs;
  std::string tables;
  for (const auto& [k, v] : detail) {
    if (k == "hot_keys" && v.is_array())
      tables += (tables.empty() ? "" : "\n") + render_hot_keys(v.get_array());
    else if (k == "rejected_by_code" && v.is_object())
      tables += (tables.empty() ? "" : "\n") + render_rejects(v.get_object());
    else if (v.is_object())
      pairs.emplace_back(std::string{k}, inline_object(v.get_object(), false));
    else
      pairs.emplace_back(std::string{k},
                         v.is_string() ? std::string{v.get_string()}
                                       : json_text(v));
  }
  std::string out = render_pairs(pairs);
  if (!tables.empty())
    out += (out.empty() ? "" : "\n") + tables;
  return out;
}

std::string latency_summary(const json::object& lat) {
  std::vector<uint64_t> le, counts;
  if (const auto* a = array_of(lat, "le_us"))
    for (const auto& v : *a)
      le.push_back(u64_of(&v));
  if (const auto* a = array_of(lat, "counts"))
    for (const auto& v : *a)
      counts.push_back(u64_of(&v));
  auto count = u64_of(lat, "count");
  if (count == 0)
    return "no acks yet";
  auto us = [](uint64_t v) { return human_micros(v); };
  auto q = [&](double p) {
    auto b = histogram_quantile(le, counts, p);
    return b ? "<= " + us(*b) : "> " + us(le.empty() ? 0 : le.back());
  };
  return std::to_string(count) + " acks, mean "
         + us(u64_of(lat, "sum_us") / count) + ", p50 " + q(0.5) + ", p99 "
         + q(0.99);
}

std::string rate_since_start(uint64_t n, uint64_t seconds) {
  return seconds == 0 ? ""
                      : " (" + human_rate(static_cast<double>(n)
                                          / static_cast<double>(seconds))
                          + " since start)";
}

} // namespace

std::string render_actors(const json::object& doc,
                          std::string_view kind_filter,
                          std::string_view sort_by) {
  table t{{{"ID", R::right},
           {"NAME"},
           {"KIND"},
           {"SHARD", R::right},
           {"MAILBOX", R::right},
           {"PROCESSED", R::right},
           {"APPLIED", R::right},
           {"REJECTED", R::right},
           {"KEYS", R::right},
           {"BYTES", R::right},
           {"BUSY", R::right}}};
  for (const auto* a : select_actors(doc, kind_filter, sort_by))
    t.add_row({num(*a, "id"), str_of(*a, "name"), str_of(*a, "kind"),
               cell_of(*a, "shard"), num(*a, "mailbox"),
               num(*a, "processed"), num(*a, "applied"),
               num(*a, "rejected"), num(*a, "keys"),
               human_bytes(u64_of(*a, "bytes")),
               human_duration_ns(u64_of(*a, "busy_ns"))});
  if (t.rows() == 0)
    return kind_filter.empty() ? "no actors\n"
                               : "no actors of kind '"
                                   + std::string{kind_filter} + "'\n";
  return t.render();
}

std::string render_actor(const json::object& a) {
  auto bytes = u64_of(a, "bytes");
  std::string out = render_pairs({
    {"id", num(a, "id")},
    {"name", str_of(a, "name")},
    {"kind", str_of(a, "kind")},
    {"node", str_of(a, "node")},
    {"shard", cell_of(a, "shard")},
    {"mailbox", num(a, "mailbox")},
    {"processed", num(a, "processed")},
    {"applied", num(a, "applied")},
    {"rejected", num(a, "rejected")},
    {"keys", num(a, "keys")},
    {"bytes", human_bytes(bytes) + " (" + std::to_string(bytes) + ")"},
    {"busy", human_duration_ns(u64_of(a, "busy_ns"))},
    {"uptime", human_uptime(u64_of(a, "uptime_ms") / 1000)},
    {"last error", render_last_error(a)},
  });
  if (const auto* d = object_of(a, "detail"); d != nullptr && !d->empty())
    out += "\n" + render_detail(*d);
  return out;
}

std::string render_record(const json::object& r) {
  std::string out = render_pairs({
    {"key", str_of(r, "key")},
    {"version", num(r, "version")},
    {"events", num(r, "events")},
    {"first", utc_time_ms(u64_of(r, "first_ts")) + "  ("
                + num(r, "first_ts") + ")"},
    {"last", utc_time_ms(u64_of(r, "last_ts")) + "  (" + num(r, "last_ts")
               + ")"},
  });
  const auto* fields = object_of(r, "fields");
  if (fields == nullptr || fields->empty())
    return out + "fields   (none)\n";
  std::vector<std::pair<std::string, std::string>> pairs;
  for (const auto& [k, v] : *fields)
    pairs.emplace_back(std::string{k}, json_text(v));
  return out + "fields\n" + render_pairs(pairs, "  ");
}

std::string render_stats(const json::object& s) {
  auto up = u64_of(s, "uptime_seconds");
  std::vector<std::pair<std::string, std::string>> pairs;
  if (s.contains("node"))
    pairs.emplace_back("node", str_of(s, "node"));
  pairs.emplace_back("uptime", human_uptime(up));
  pairs.emplace_back("accepted", num(s, "accepted")
                                   + rate_since_start(u64_of(s, "accepted"),
                                                      up));
  pairs.emplace_back("duplicates", num(s, "duplicates"));
  pairs.emplace_back("rejected", num(s, "rejected")
                                   + rate_since_start(u64_of(s, "rejected"),
                                                      up));
  if (const auto* by = object_of(s, "rejected_by_code"))
    pairs.emplace_back("  by code", inline_object(*by, true));
  pairs.emplace_back("keys", num(s, "keys") + " ("
                               + human_bytes(u64_of(s, "bytes")) + ")");
  pairs.emplace_back("engine", num(s, "shards") + " shards, "
                                 + num(s, "parsers") + " parsers");
  if (const auto* in = object_of(s, "ingest"))
    pairs.emplace_back(
      "ingest", num(*in, "connections") + " TCP connections open ("
                  + num(*in, "connections_total") + " total), "
                  + num(*in, "http_requests_total") + " HTTP requests, "
                  + human_bytes(u64_of(*in, "bytes_total")) + " received, "
                  + num(*in, "inflight_events") + " events in flight");
  if (const auto* lat = object_of(s, "ack_latency"))
    pairs.emplace_back("ack latency", latency_summary(*lat));
  return render_pairs(pairs);
}

std::string render_cluster(const json::object& c) {
  std::string out = "self " + str_of(c, "self") + ", epoch "
                    + num(c, "epoch") + "\n\n";
  table members{{{"NODE"},
                  {"ADDRESS"},
                  {"STATE"},
                  {"SHARDS", R::right},
                  {"HELD", R::right}}};
  if (const auto* a = array_of(c, "members"))
    for (const auto& v : *a)
      if (const auto* m = v.if_object())
        members.add_row({str_of(*m, "node"),
                         str_of(*m, "address").empty()
                           ? "-"
                           : str_of(*m, "address"),
                         str_of(*m, "state"), num(*m, "shards"),
                         m->contains("held") ? num(*m, "held")
                                             : num(*m, "shards")});
  out += members.render();
  std::map<std::string, std::vector<uint64_t>> by_node;
  uint64_t total = 0;
  if (const auto* p = object_of(c, "placement"))
    for (const auto& [shard, node] : *p) {
      auto text = std::string{shard};
      if (text.empty() || text.find_first_not_of("0123456789")
                            != std::string::npos)
        continue;
      by_node[node.is_string() ? std::string{node.get_string()}
                               : json_text(node)]
        .push_back(std::stoull(text));
      ++total;
    }
  out += "\nplacement: " + std::to_string(total) + " shards\n";
  table t{{{"NODE"}, {"SHARDS", R::right}, {"INDICES"}}};
  for (auto& [node, shards] : by_node) {
    std::sort(shards.begin(), shards.end());
    t.add_row({node, std::to_string(shards.size()),
               compress_ranges(shards)});
  }
  return out + t.render();
}

std::string render_tap_line(const json::object& l) {
  if (l.contains("heartbeat"))
    return {};
  if (l.contains("dropped"))
    return "... " + num(l, "dropped") + " events sampled away";
  if (l.contains("tap")) {
    std::string what = str_of(l, "tap") == "key"
                         ? "key " + str_of(l, "key") + " (shard "
                             + num(l, "shard") + ")"
                         : "shard " + num(l, "shard");
    return "tapping " + what + "; Ctrl-C stops";
  }
  std::string time = utc_time_ms(u64_of(l, "t_ms"));
  time = time.size() > 15 ? time.substr(11, 12) : time;  // HH:MM:SS.mmm
  std::string outcome = str_of(l, "outcome");
  if (l.contains("error"))
    outcome += " (" + str_of(l, "error") + ")";
  return time + "  shard " + num(l, "shard") + "  seq " + num(l, "seq")
         + "  " + outcome + "  " + str_of(l, "op") + "  "
         + str_of(l, "key") + "  id " + str_of(l, "id");
}

std::string render_server_error(unsigned status, std::string_view body) {
  json::error_code ec;
  auto v = json::parse(body, ec);
  const auto* o = ec ? nullptr : v.if_object();
  if (o == nullptr || !o->contains("error")) {
    std::string text{body.substr(0, 200)};
    while (!text.empty() && (text.back() == '\n' || text.back() == '\r'))
      text.pop_back();
    return "error: HTTP " + std::to_string(status)
           + (text.empty() ? "" : ": " + text);
  }
  std::string detail = str_of(*o, "detail");
  return "error: " + str_of(*o, "error") + ": "
         + (detail.empty() ? "HTTP " + std::to_string(status) : detail);
}

std::string compress_ranges(const std::vector<uint64_t>& s) {
  std::string out;
  for (size_t i = 0; i < s.size();) {
    size_t j = i;
    while (j + 1 < s.size() && s[j + 1] == s[j] + 1)
      ++j;
    if (!out.empty())
      out += ',';
    out += std::to_string(s[i]);
    if (j > i)
      out += '-' + std::to_string(s[j]);
    i = j + 1;
  }
  return out;
}

std::optional<uint64_t> histogram_quantile(const std::vector<uint64_t>& le_us,
                                           const std::vector<uint64_t>& counts,
                                           double q) {
  uint64_t total = 0;
  for (auto c : counts)
    total += c;
  if (total == 0)
    return std::nullopt;
  auto rank = static_cast<double>(total) * q;
  uint64_t seen = 0;
  for (size_t i = 0; i < counts.size() && i < le_us.size(); ++i) {
    seen += counts[i];
    if (static_cast<double>(seen) >= rank)
      return le_us[i];
  }
  return std::nullopt;
}

} // namespace eventide::ctl

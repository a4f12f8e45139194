// GET /metrics: the Prometheus text exposition format 0.0.4, written by
// hand (it is a few lines of text; no client library is packaged). Names
// follow Prometheus conventions: eventide_ prefix, base units (seconds,
// bytes), _total for counters, process_* as the official clients name them.
#include <dirent.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "app/views.hpp"

namespace eventide {

namespace {

/// Escapes a label value: backslash, double quote and newline.
std::string label(std::string_view v) {
  std::string out;
  out.reserve(v.size());
  for (char c : v) {
    if (c == '\\' || c == '"')
      out += '\\';
    if (c == '\n') {
      out += "\\n";
      continue;
    }
    out += c;
  }
  return out;
}

class exposition {
public:
  /// Starts a metric family with its HELP and TYPE lines.
  exposition& family(std::string_view name, std::string_view type,
                     std::string_view help) {
    out_ << "# HELP " << name << ' ' << help << '\n'
         << "# TYPE " << name << ' ' << type << '\n';
    return *this;
  }

  template <class T>
  exposition& sample(std::string_view name, T value,
                     std::string_view labels = {}) {
    out_ << name;
    if (!labels.empty())
      out_ << '{' << labels << '}';
    out_ << ' ' << value << '\n';
    return *this;
  }

  std::string str() const {
    return out_.str();
  }

private:
  std::ostringstream out_;
};

/// What /proc says about this process; zeros where it cannot be read.
struct process_facts {
  double cpu_seconds = 0;
  double start_time = 0; // seconds since the Unix epoch
  uint64_t rss_bytes = 0;
  uint64_t vsize_bytes = 0;
  uint64_t open_fds = 0;
};

process_facts read_process() {
  process_facts p;
  std::ifstream stat{"/proc/self/stat"};
  std::string line;
  if (!std::getline(stat, line))
    return p;
  // Fields after the command name, which is in parentheses and may hold
  // spaces: state is field 3, utime 14, stime 15, starttime 22, vsize 23,
  // rss 24 (man 5 proc).
  auto close = line.rfind(')');
  if (close == std::string::npos)
    return p;
  std::istringstream rest{line.substr(close + 2)};
  std::vector<std::string> f{"", "", ""}; // fields 1..2 are before `rest`
  std::string tok;
  while (rest >> tok)
    f.push_back(tok);
  if (f.size() < 25)
    return p;
  auto ticks = static_cast<double>(sysconf(_SC_CLK_TCK));
  auto page = static_cast<uint64_t>(sysconf(_SC_PAGESIZE));
  p.cpu_seconds = (std::stod(f[14]) + std::stod(f[15])) / ticks;
  p.vsize_bytes = std::stoull(f[23]);
  p.rss_bytes = std::stoull(f[24]) * page;
  double boot = 0;
  std::ifstream stat_all{"/proc/stat"};
  for (std::string l; std::getline(stat_all, l);)
    if (l.rfind("btime ", 0) == 0)
      boot = std::stod(l.substr(6));
  p.start_time = boot + std::stod(f[22]) / ticks;
  if (auto* dir = opendir("/proc/self/fd")) {
    while (readdir(dir) != nullptr)
      ++p.open_fds;
    closedir(dir);
    p.open_fds -= 3; // ".", ".." and the directory's own descriptor
  }
  return p;
}

} // namespace

std::string render_metrics(const system_totals& t,
                           const std::vector<actor_info>& actors,
                           const front_counts& front) {
  exposition e;
  auto node = "node=\"" + label(t.node) + "\"";
  e.family("eventide_build_info", "gauge",
           "Build information; the value is always 1.")
    .sample("eventide_build_info", 1,
            "version=\"" + label(EVENTIDE_VERSION) + "\"," + node);
  e.family("eventide_uptime_seconds", "gauge",
           "Seconds since the engine started.")
    .sample("eventide_uptime_seconds", static_cast<double>(t.uptime_ms) / 1e3);

  e.family("eventide_events_accepted_total", "counter",
           "Events applied to a shard.")
    .sample("eventide_events_accepted_total", t.accepted);
  e.family("eventide_events_duplicate_total", "counter",
           "Events skipped as duplicates of an applied (key, id).")
    .sample("eventide_events_duplicate_total", t.duplicates);
  e.family("eventide_events_rejected_total", "counter",
           "Events rejected, by error code.");
  for (std::size_t i = 0; i < error_code_count; ++i)
    e.sample("eventide_events_rejected_total", t.rejected[i],
             "code=\"" + std::string{to_string(static_cast<error_code>(i))}
               + "\"");
  e.family("eventide_keys", "gauge", "Keys held by all shards.")
    .sample("eventide_keys", t.keys);
  e.family("eventide_store_bytes", "gauge",
           "Approximate bytes held by records and de-dup windows.")
    .sample("eventide_store_bytes", t.bytes);

  e.family("eventide_ingest_bytes_total", "counter",
           "Bytes of events received, by transport.")
    .sample("eventide_ingest_bytes_total", front.tcp.bytes_read,
            "transport=\"tcp\"")
    .sample("eventide_ingest_bytes_total", front.http.body_bytes,
            "transport=\"http\"");
  e.family("eventide_connections", "gauge", "Open client connections.")
    .sample("eventide_connections", front.tcp.connections_open,
            "transport=\"tcp\"")
    .sample("eventide_connections", front.http.connections_open,
            "transport=\"http\"");
  e.family("eventide_connections_accepted_total", "counter",
           "Client connections accepted.")
    .sample("eventide_connections_accepted_total",
            front.tcp.connections_accepted, "transport=\"tcp\"")
    .sample("eventide_connections_accepted_total",
            front.http.connections_accepted, "transport=\"http\"");
  e.family("eventide_connections_rejected_total", "counter",
           "Client connections refused over limits.max-connections.")
    .sample("eventide_connections_rejected_total",
            front.tcp.connections_rejected, "transport=\"tcp\"")
    .sample("eventide_connections_rejected_total",
            front.http.connections_rejected, "transport=\"http\"");
  e.family("eventide_connections_timed_out_total", "counter",
           "Client connections closed by the idle or header timeout.")
    .sample("eventide_connections_timed_out_total",
            front.tcp.connections_timed_out, "transport=\"tcp\"")
    .sample("eventide_connections_timed_out_total",
            front.http.connections_timed_out, "transport=\"http\"");
  e.family("eventide_http_requests_total", "counter",
           "HTTP requests received.")
    .sample("eventide_http_requests_total", front.http.requests);
  e.family("eventide_http_errors_total", "counter",
           "HTTP error answers, by status class.")
    .sample("eventide_http_errors_total", front.http.responses_4xx,
            "class=\"4xx\"")
    .sample("eventide_http_errors_total", front.http.responses_5xx,
            "class=\"5xx\"");
  e.family("eventide_auth_failures_total", "counter",
           "Requests and ingest connections refused by the token check, "
           "by reason.")
    .sample("eventide_auth_failures_total", front.auth.missing,
            "reason=\"missing\"")
    .sample("eventide_auth_failures_total", front.auth.invalid,
            "reason=\"invalid\"")
    .sample("eventide_auth_failures_total", front.auth.scope,
            "reason=\"scope\"");
  auto inflight = front.tcp.lines_submitted >= front.tcp.lines_acked
                    ? front.tcp.lines_submitted - front.tcp.lines_acked
                    : 0;
  e.family("eventide_inflight_events", "gauge",
           "TCP ingest lines read but not yet acknowledged.")
    .sample("eventide_inflight_events", inflight);

  const auto& lat = front.tcp.ack_latency;
  e.family("eventide_ack_latency_seconds", "histogram",
           "Time from reading a TCP chunk to its acknowledgement.");
  uint64_t cumulative = 0;
  for (std::size_t i = 0; i < latency_bounds_us.size(); ++i) {
    cumulative += lat.counts[i];
    std::ostringstream le;
    le << "le=\"" << static_cast<double>(latency_bounds_us[i]) / 1e6 << "\"";
    e.sample("eventide_ack_latency_seconds_bucket", cumulative, le.str());
  }
  cumulative += lat.counts.back();
  e.sample("eventide_ack_latency_seconds_bucket", cumulative, "le=\"+Inf\"")
    .sample("eventide_ack_latency_seconds_sum",
            static_cast<double>(lat.sum_us) / 1e6)
    .sample("eventide_ack_latency_seconds_count", cumulative);

  std::map<std::string, uint64_t> per_kind;
  uint64_t parse_queue = 0;
  for (const auto& a : actors) {
    ++per_kind[a.kind];
    if (a.kind == "parser")
      parse_queue += a.mailbox;
  }
  e.family("eventide_actors", "gauge", "Live actors, by kind.");
  for (const auto& [kind, n] : per_kind)
    e.sample("eventide_actors", n, "kind=\"" + label(kind) + "\"");
  e.family("eventide_parse_queue_depth", "gauge",
           "Chunks waiting in the parse actors' mailboxes.")
    .sample("eventide_parse_queue_depth", parse_queue);

  auto per_shard = [&](std::string_view name, std::string_view type,
                       std::string_view help, auto value) {
    e.family(name, type, help);
    for (const auto& a : actors)
      if (a.kind == "shard")
        e.sample(name, value(a),
                 "shard=\"" + std::to_string(a.shard) + "\"");
  };
  per_shard("eventide_shard_keys", "gauge", "Keys held by a shard.",
            [](const actor_info& a) { return a.keys; });
  per_shard("eventide_shard_mailbox_depth", "gauge",
            "Messages waiting in a shard's mailbox.",
            [](const actor_info& a) { return a.mailbox; });
  per_shard("eventide_shard_events_applied_total", "counter",
            "Events applied by a shard.",
            [](const actor_info& a) { return a.applied; });
  per_shard("eventide_shard_busy_seconds_total", "counter",
            "Time a shard spent in its handlers.", [](const actor_info& a) {
              return static_cast<double>(a.busy_ns) / 1e9;
            });

  auto p = read_process();
  e.family("process_cpu_seconds_total", "counter",
           "User and system CPU time of the process.")
    .sample("process_cpu_seconds_total", p.cpu_seconds);
  e.family("process_resident_memory_bytes", "gauge", "Resident memory.")
    .sample("process_resident_memory_bytes", p.rss_bytes);
  e.family("process_virtual_memory_bytes", "gauge", "Virtual memory.")
    .sample("process_virtual_memory_bytes", p.vsize_bytes);
  e.family("process_start_time_seconds", "gauge",
           "Start time of the process since the Unix epoch.")
    .sample("process_start_time_seconds", std::to_string(
                                             static_cast<uint64_t>(
                                               p.start_time)));
  e.family("process_open_fds", "gauge", "Open file descriptors.")
    .sample("process_open_fds", p.open_fds);
  return e.str();
}

} // namespace eventide

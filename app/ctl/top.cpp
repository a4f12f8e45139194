#include "app/ctl/top.hpp"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <ctime>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include "app/ctl/format.hpp"
#include "app/ctl/json_view.hpp"
#include "app/ctl/render.hpp"
#include "app/ctl/terminal.hpp"

namespace eventide::ctl {

namespace json = boost::json;
using steady = std::chrono::steady_clock;

actors_sample to_sample(const json::object& doc) {
  actors_sample out;
  if (const auto* actors = array_of(doc, "actors"))
    for (const auto& v : *actors)
      if (const auto* a = v.if_object())
        out[u64_of(*a, "id")] = actor_counters{
          str_of(*a, "name"),     str_of(*a, "kind"),
          u64_of(*a, "mailbox"),  u64_of(*a, "processed"),
          u64_of(*a, "applied"),  u64_of(*a, "busy_ns"),
          u64_of(*a, "uptime_ms")};
  return out;
}

std::vector<top_row> compute_top(const actors_sample* before,
                                 const actors_sample& now, double seconds) {
  // Counters only grow; a smaller value means a restarted actor.
  auto delta = [](uint64_t b, uint64_t a) { return a >= b ? a - b : a; };
  std::vector<top_row> rows;
  for (const auto& [id, a] : now) {
    actor_counters zero;
    const actor_counters* b = &zero;
    double secs = seconds;
    if (before == nullptr) {
      secs = static_cast<double>(a.uptime_ms) / 1000;
    } else if (auto it = before->find(id); it != before->end()) {
      b = &it->second;
    }
    top_row r{id, a.name, a.kind, 0, 0, 0, a.mailbox};
    if (secs > 0) {
      r.busy_share = static_cast<double>(delta(b->busy_ns, a.busy_ns))
                     / (secs * 1e9);
      r.processed_rate = static_cast<double>(delta(b->processed,
                                                   a.processed))
                         / secs;
      r.applied_rate = static_cast<double>(delta(b->applied, a.applied))
                       / secs;
    }
    rows.push_back(std::move(r));
  }
  std::sort(rows.begin(), rows.end(), [](const top_row& x, const top_row& y) {
    if (x.busy_share != y.busy_share)
      return x.busy_share > y.busy_share;
    if (x.processed_rate != y.processed_rate)
      return x.processed_rate > y.processed_rate;
    return x.id < y.id;
  });
  return rows;
}

std::string render_top(const std::vector<top_row>& rows,
                       const std::string& header, size_t max_rows) {
  using R = table::align;
  table t{{{"ID", R::right},
           {"NAME"},
           {"KIND"},
           {"BUSY%", R::right},
           {"MSGS/S", R::right},
           {"EVENTS/S", R::right},
           {"MAILBOX", R::right}}};
  for (size_t i = 0; i < rows.size() && i < max_rows; ++i) {
    const auto& r = rows[i];
    char busy[16];
    std::snprintf(busy, sizeof busy, "%.1f", r.busy_share * 100);
    t.add_row({std::to_string(r.id), r.name, r.kind, busy,
               human_rate(r.processed_rate), human_rate(r.applied_rate),
               std::to_string(r.mailbox)});
  }
  return header + "\n\n" + t.render();
}

namespace {

/// Polls /v1/actors and shows the view until q, Ctrl-C or the iterations.
class top_view {
public:
  top_view(const command& cmd, http_client& http, bool json)
    : cmd_(cmd), http_(http), json_(json), tty_(stdout_is_terminal()) {
  }

  int run() {
    raw_input keys;
    for (uint32_t frame = 1;; ++frame) {
      if (int code = show(); code != 0)
        return code;
      if (cmd_.iterations != 0 && frame >= cmd_.iterations)
        return 0;
      if (wait_for_next(keys))
        return 0;
    }
  }

private:
  /// Sleeps one interval; true when the user asked to quit.
  bool wait_for_next(raw_input& keys) {
    auto until = steady::now()
                 + std::chrono::duration_cast<steady::duration>(
                   std::chrono::duration<double>(cmd_.interval_s));
    while (!interrupted()) {
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        until - steady::now());
      if (left.count() <= 0)
        return false;
      char ch = keys.wait_key(std::min(left, std::chrono::milliseconds{200}));
      if (ch == 'q' || ch == 'Q')
        return true;
    }
    return true;
  }

  int show() {
    auto res = http_.get("/v1/actors");
    auto now = steady::now();
    json::error_code ec;
    auto v = json::parse(res.body, ec);
    const auto* doc = ec ? nullptr : v.if_object();
    if (res.status != 200 || doc == nullptr) {
      std::fprintf(stderr, "%s\n",
                   render_server_error(res.status, res.body).c_str());
      return 1;
    }
    auto sample = to_sample(*doc);
    double secs = std::chrono::duration<double>(now - taken_).count();
    auto rows = compute_top(previous_ ? &*previous_ : nullptr, sample, secs);
    if (json_)
      print_json(rows, secs);
    else
      print_view(rows, str_of(*doc, "node"), secs, sample.size());
    previous_ = std::move(sample);
    taken_ = now;
    return 0;
  }

  void print_view(const std::vector<top_row>& rows, const std::string& node,
                  double secs, size_t actors) {
    std::time_t t = std::time(nullptr);
    std::tm tm{};
    localtime_r(&t, &tm);
    char clock[16];
    std::strftime(clock, sizeof clock, "%H:%M:%S", &tm);
    char span[48];
    if (previous_)
      std::snprintf(span, sizeof span, "last %.1f s", secs);
    else
      std::snprintf(span, sizeof span, "since start");
    std::string header = std::string{"eventide top  "} + clock + "  "
                         + http_.address() + (node.empty() ? "" : " (" + node
                                                                  + ")")
                         + "  " + std::to_string(actors) + " actors  "
                         + span + "  (q quits)";
    // Header, blank line, table header; keep one line free at the bottom.
    int room = tty_ ? terminal_rows() - 4 : 1 << 30;
    auto text = render_top(rows, header, static_cast<size_t>(std::max(room, 1)));
    if (tty_) {
      std::string frame = "\033[H\033[2J";  // home, clear screen
      for (size_t pos = 0; pos < text.size();) {
        auto nl = text.find('\n', pos);
        frame += text.substr(pos, nl - pos) + "\r\n";  // raw-mode safe
        pos = nl == std::string::npos ? text.size() : nl + 1;
      }
      std::fputs(frame.c_str(), stdout);
    } else {
      std::fputs((text + "\n").c_str(), stdout);
    }
    std::fflush(stdout);
  }

  void print_json(const std::vector<top_row>& rows, double secs) {
    json::array out;
    for (const auto& r : rows)
      out.push_back(json::object{{"id", r.id},
                                 {"name", r.name},
                                 {"kind", r.kind},
                                 {"busy_share", r.busy_share},
                                 {"processed_per_s", r.processed_rate},
                                 {"applied_per_s", r.applied_rate},
                                 {"mailbox", r.mailbox}});
    json::object doc{{"interval_s", previous_ ? secs : 0.0},
                     {"actors", std::move(out)}};
    std::printf("%s\n", json::serialize(doc).c_str());
    std::fflush(stdout);
  }

  const command& cmd_;
  http_client& http_;
  bool json_;
  bool tty_;
  std::optional<actors_sample> previous_;
  steady::time_point taken_;
};

} // namespace

int run_top(const command& cmd, http_client& http, bool json) {
  top_view view{cmd, http, json};
  try {
    return view.run();
  } catch (const interrupted_error&) {
    return 0;
  }
}

} // namespace eventide::ctl

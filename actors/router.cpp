#include "actors/router.hpp"

#include <chrono>
#include <memory>

#include <boost/json.hpp>
#include <caf/all.hpp>
#include <spdlog/spdlog.h>

#include "actors/placement.hpp"
#include "messages/messages.hpp"

namespace eventide {

namespace {

/// Totals over every shard and parser.
struct totals {
  uint64_t accepted = 0;
  uint64_t duplicates = 0;
  uint64_t keys = 0;
  uint64_t bytes = 0;
  std::array<uint64_t, error_code_count> rejected{};
  size_t pending = 0;
  bool failed = false;

  uint64_t rejected_total() const {
    uint64_t n = 0;
    for (auto x : rejected)
      n += x;
    return n;
  }
};

using totals_handler = std::function<void(const totals&)>;

struct router_state {
  static inline const char* name = "router";
  std::vector<caf::actor> shards;
  std::vector<caf::actor> parsers;
  caf::timespan query_timeout{};
  caf::timespan summary_interval{};
  std::chrono::steady_clock::time_point started;
  std::array<uint64_t, error_code_count> reported{}; // rejects already logged
};

using router_actor = caf::stateful_actor<router_state>*;

/// Asks every shard and parser for its counters; `done` gets the sum.
void collect(router_actor self, totals_handler done) {
  auto& st = self->state;
  auto sum = std::make_shared<totals>();
  sum->pending = st.shards.size() + st.parsers.size();
  auto finish_one = [sum, done] {
    if (--sum->pending == 0)
      done(*sum);
  };
  auto on_error = [sum, finish_one](caf::error&) {
    sum->failed = true;
    finish_one();
  };
  for (auto& shard : st.shards)
    self->request(shard, st.query_timeout, stats_atom::value)
      .then(
        [sum, finish_one](const shard_store_stats& s) {
          sum->accepted += s.events_applied;
          sum->duplicates += s.duplicates;
          sum->keys += s.keys;
          sum->bytes += s.bytes;
          for (size_t i = 0; i < error_code_count; ++i)
            sum->rejected[i] += s.rejected[i];
          finish_one();
        },
        on_error);
  for (auto& parser : st.parsers)
    self->request(parser, st.query_timeout, stats_atom::value)
      .then(
        [sum, finish_one](const parser_stats& s) {
          for (size_t i = 0; i < error_code_count; ++i)
            sum->rejected[i] += s.rejected[i];
          finish_one();
        },
        on_error);
}

std::string render_stats(const totals& t, const router_state& st) {
  boost::json::object by_code;
  for (size_t i = 0; i < error_code_count; ++i)
    if (t.rejected[i] > 0)
      by_code[to_string(static_cast<error_code>(i))] = t.rejected[i];
  auto uptime = std::chrono::steady_clock::now() - st.started;
  boost::json::object out{
    {"accepted", t.accepted},
    {"duplicates", t.duplicates},
    {"rejected", t.rejected_total()},
    {"rejected_by_code", std::move(by_code)},
    {"keys", t.keys},
    {"bytes", t.bytes},
    {"shards", st.shards.size()},
    {"parsers", st.parsers.size()},
    {"uptime_seconds",
     std::chrono::duration_cast<std::chrono::seconds>(uptime).count()},
  };
  return boost::json::serialize(out);
}

/// One line per interval, only when something was rejected (DESIGN.md §8).
void log_reject_summary(router_state& st, const totals& t) {
  std::string parts;
  uint64_t total = 0;
  for (size_t i = 0; i < error_code_count; ++i) {
    auto delta = t.rejected[i] - st.reported[i];
    if (delta == 0)
      continue;
    total += delta;
    parts += ' ';
    parts += to_string(static_cast<error_code>(i));
    parts += '=' + std::to_string(delta);
  }
  st.reported = t.rejected;
  if (total == 0)
    return;
  auto secs = std::chrono::duration_cast<std::chrono::seconds>(
                st.summary_interval)
                .count();
  spdlog::warn("rejected {} events in the last {} s:{}", total, secs, parts);
}

caf::result<std::string> on_stats(router_actor self) {
  auto rp = self->make_response_promise<std::string>();
  collect(self, [self, rp](const totals& t) mutable {
    if (t.failed)
      rp.deliver(caf::make_error(caf::sec::request_timeout,
                                 "not every shard answered"));
    else
      rp.deliver(render_stats(t, self->state));
  });
  return rp;
}

caf::result<bool> on_ready(router_actor self) {
  auto rp = self->make_response_promise<bool>();
  auto pending = std::make_shared<size_t>(self->state.shards.size());
  auto ok = std::make_shared<bool>(true);
  auto finish_one = [rp, pending, ok]() mutable {
    if (--*pending == 0)
      rp.deliver(*ok);
  };
  for (auto& shard : self->state.shards)
    self->request(shard, self->state.query_timeout, ready_atom::value)
      .then([finish_one](bool) mutable { finish_one(); },
            [finish_one, ok](caf::error&) mutable {
              *ok = false;
              finish_one();
            });
  return rp;
}

caf::behavior router_impl(router_actor self, std::vector<caf::actor> shards,
                          std::vector<caf::actor> parsers,
                          caf::timespan query_timeout,
                          caf::timespan summary_interval) {
  auto& st = self->state;
  st.shards = std::move(shards);
  st.parsers = std::move(parsers);
  st.query_timeout = query_timeout;
  st.summary_interval = summary_interval;
  st.started = std::chrono::steady_clock::now();
  self->delayed_send(self, summary_interval, tick_atom::value);
  auto owner = [self](const std::string& key) {
    auto& shards = self->state.shards;
    return shards[shard_of(key, static_cast<uint32_t>(shards.size()))];
  };
  return {
    [=](lookup_atom, const std::string& key) {
      return self->delegate(owner(key), lookup_atom::value, key);
    },
    [=](erase_atom, const std::string& key) {
      return self->delegate(owner(key), erase_atom::value, key);
    },
    [=](stats_atom) { return on_stats(self); },
    [=](ready_atom) { return on_ready(self); },
    [=](tick_atom) {
      collect(self, [self](const totals& t) {
        if (!t.failed)
          log_reject_summary(self->state, t);
      });
      self->delayed_send(self, self->state.summary_interval,
                         tick_atom::value);
    },
  };
}

} // namespace

caf::actor spawn_router(caf::actor_system& sys, std::vector<caf::actor> shards,
                        std::vector<caf::actor> parsers,
                        caf::timespan query_timeout,
                        caf::timespan summary_interval) {
  return sys.spawn(router_impl, std::move(shards), std::move(parsers),
                   query_timeout, summary_interval);
}

} // namespace eventide

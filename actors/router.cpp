#include "actors/router.hpp"

#include <chrono>
#include <memory>

#include <algorithm>
#include <tuple>

#include <caf/all.hpp>
#include <spdlog/spdlog.h>

#include "actors/actor_meter.hpp"
#include "actors/mailbox_depth.hpp"
#include "actors/placement.hpp"
#include "messages/cluster.hpp"
#include "messages/introspection.hpp"
#include "messages/messages.hpp"

namespace eventide {

namespace {

/// Totals over every shard and parser, while they are being collected.
struct totals : system_totals {
  size_t pending = 0;
  bool failed = false;
};

using totals_handler = std::function<void(const totals&)>;

struct router_state {
  static inline const char* name = "router";
  std::vector<caf::actor> shards; // this node's shard actors
  route_table routes;             // the owners' shard actors
  std::vector<caf::actor> parsers;
  caf::timespan query_timeout{};
  caf::timespan summary_interval{};
  std::vector<caf::actor> joined; // sessions and listeners, while alive
  std::string node;
  std::chrono::steady_clock::time_point started;
  std::array<uint64_t, error_code_count> reported{}; // rejects already logged
  actor_meter meter;
};

using router_actor = caf::stateful_actor<router_state>*;

/// Asks every shard (with `owners`, the owner of each shard, wherever it
/// is; otherwise this node's) and every local parser for its counters;
/// `done` gets the sum. Unreachable owners are counted, not asked.
void collect(router_actor self, bool owners, totals_handler done) {
  auto& st = self->state;
  auto sum = std::make_shared<totals>();
  std::vector<caf::actor> shards;
  if (owners) {
    for (std::size_t s = 0; s < st.routes.shards.size(); ++s)
      if (st.routes.available[s] && st.routes.shards[s])
        shards.push_back(st.routes.shards[s]);
      else
        ++sum->shards_unavailable;
  } else {
    shards = st.shards;
  }
  sum->pending = shards.size() + st.parsers.size() + 1;
  auto finish_one = [sum, done] {
    if (--sum->pending == 0)
      done(*sum);
  };
  auto on_error = [sum, finish_one](caf::error&) {
    sum->failed = true;
    finish_one();
  };
  for (auto& shard : shards)
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
  finish_one(); // the extra count: nothing to ask at all
}

/// One line per interval, only when something was rejected (DESIGN.md §8).
void log_reject_summary(router_state& st, const totals& t) {
  std::string parts;
  uint64_t total = 0;
  for (size_t i = 0; i < error_code_count; ++i) {
    // A shard handed off to another node starts its counters anew.
    auto delta = t.rejected[i] >= st.reported[i]
                   ? t.rejected[i] - st.reported[i]
                   : t.rejected[i];
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

caf::result<system_totals> on_stats(router_actor self) {
  auto rp = self->make_response_promise<system_totals>();
  collect(self, true, [self, rp](const totals& t) mutable {
    if (t.failed) {
      rp.deliver(caf::make_error(caf::sec::request_timeout,
                                 "not every shard answered"));
      return;
    }
    auto& st = self->state;
    system_totals out = t;
    out.node = st.node;
    out.shards = static_cast<uint32_t>(st.shards.size());
    out.shards_unavailable = t.shards_unavailable;
    out.parsers = static_cast<uint32_t>(st.parsers.size());
    out.uptime_ms = static_cast<uint64_t>(
      std::chrono::duration_cast<std::chrono::milliseconds>(
        std::chrono::steady_clock::now() - st.started)
        .count());
    rp.deliver(out);
  });
  return rp;
}

actor_info own_info(router_actor self, bool deep) {
  auto& st = self->state;
  actor_info info;
  info.id = self->id();
  info.name = "router";
  info.kind = "router";
  info.node = st.node;
  st.meter.fill(info, mailbox_depth(*self));
  if (deep)
    info.detail = "{}";
  return info;
}

/// Every actor the router knows, itself included.
std::vector<caf::actor> directory(const router_state& st) {
  std::vector<caf::actor> all;
  all.reserve(st.joined.size() + st.parsers.size() + st.shards.size());
  all.insert(all.end(), st.joined.begin(), st.joined.end());
  all.insert(all.end(), st.parsers.begin(), st.parsers.end());
  all.insert(all.end(), st.shards.begin(), st.shards.end());
  return all;
}

/// GET /v1/actors: asks every actor (high priority, so a long mailbox does
/// not delay the answer); one that does not answer in time is left out.
caf::result<std::vector<actor_info>> on_introspect_all(router_actor self,
                                                       bool cluster_wide) {
  auto rp = self->make_response_promise<std::vector<actor_info>>();
  auto targets = directory(self->state);
  std::vector<caf::actor> routers;
  if (cluster_wide)
    routers = self->state.routes.routers;
  struct gather {
    std::vector<actor_info> infos;
    size_t pending = 0;
  };
  auto g = std::make_shared<gather>();
  g->infos.push_back(own_info(self, false));
  g->infos.back().node = self->state.node;
  g->pending = targets.size() + routers.size() + 1;
  auto finish = [g, rp]() mutable {
    if (--g->pending > 0)
      return;
    std::sort(g->infos.begin(), g->infos.end(),
              [](const actor_info& a, const actor_info& b) {
                return std::tie(a.node, a.id) < std::tie(b.node, b.id);
              });
    rp.deliver(std::move(g->infos));
  };
  for (auto& target : targets)
    self
      ->request<caf::message_priority::high>(target,
                                             self->state.query_timeout,
                                             introspect_atom::value, false)
      .then(
        [self, g, finish](actor_info& info) mutable {
          info.node = self->state.node;
          g->infos.push_back(std::move(info));
          finish();
        },
        [finish](caf::error&) mutable { finish(); });
  // Other nodes' routers answer for their own actors; one that does not
  // answer in time is left out, like a local actor.
  for (auto& router : routers)
    self
      ->request<caf::message_priority::high>(router,
                                             self->state.query_timeout,
                                             introspect_atom::value,
                                             local_atom::value)
      .then(
        [g, finish](std::vector<actor_info>& infos) mutable {
          std::move(infos.begin(), infos.end(), std::back_inserter(g->infos));
          finish();
        },
        [finish](caf::error&) mutable { finish(); });
  finish();
  return rp;
}

/// GET /v1/actors/{id}: one actor in depth.
caf::result<actor_info> on_introspect_one(router_actor self, uint64_t id) {
  if (id == self->id())
    return own_info(self, true);
  for (auto& target : directory(self->state)) {
    if (target.id() != id)
      continue;
    auto rp = self->make_response_promise<actor_info>();
    self
      ->request<caf::message_priority::high>(target, self->state.query_timeout,
                                             introspect_atom::value, true)
      .then(
        [self, rp](actor_info& info) mutable {
          info.node = self->state.node;
          rp.deliver(std::move(info));
        },
        [rp](caf::error& err) mutable { rp.deliver(std::move(err)); });
    return rp;
  }
  return actor_info{}; // id 0 (caf::invalid_actor_id): no such actor
}

caf::result<bool> on_ready(router_actor self) {
  auto rp = self->make_response_promise<bool>();
  auto& routes = self->state.routes;
  for (auto a : routes.available)
    if (!a)
      return false; // an owner is unreachable: not every shard answers
  auto pending = std::make_shared<size_t>(routes.shards.size());
  auto ok = std::make_shared<bool>(true);
  auto finish_one = [rp, pending, ok]() mutable {
    if (--*pending == 0)
      rp.deliver(*ok);
  };
  for (auto& shard : routes.shards)
    self->request(shard, self->state.query_timeout, ready_atom::value)
      .then(
        [finish_one, ok](bool answer) mutable {
          *ok = *ok && answer; // a shard whose storage fails is not ready
          finish_one();
        },
            [finish_one, ok](caf::error&) mutable {
              *ok = false;
              finish_one();
            });
  return rp;
}

caf::behavior router_impl(router_actor self, std::vector<caf::actor> shards,
                          std::vector<caf::actor> parsers,
                          caf::timespan query_timeout,
                          caf::timespan summary_interval, std::string node) {
  auto& st = self->state;
  st.node = std::move(node);
  self->set_down_handler([self](const caf::down_msg& down) {
    std::erase_if(self->state.joined, [&](const caf::actor& a) {
      return a.address() == down.source;
    });
  });
  st.shards = std::move(shards);
  st.parsers = std::move(parsers);
  st.query_timeout = query_timeout;
  st.summary_interval = summary_interval;
  st.started = std::chrono::steady_clock::now();
  self->delayed_send(self, summary_interval, tick_atom::value);
  st.routes.shards = st.shards;
  st.routes.available.assign(st.shards.size(), 1);
  st.routes.owners.assign(st.shards.size(), st.node);
  // The owner of `key`'s shard, or the error to answer when it is
  // unreachable.
  auto route = [self](const std::string& key,
                      auto&&... xs) -> caf::result<caf::message> {
    auto& r = self->state.routes;
    auto s = shard_of(key, static_cast<uint32_t>(r.shards.size()));
    if (!r.available[s] || !r.shards[s])
      return make_error(error_code::unavailable,
                        "shard " + std::to_string(s) + " is on node "
                          + r.owners[s] + ", which is unreachable");
    self->delegate(r.shards[s], std::forward<decltype(xs)>(xs)...);
    return caf::delegated<caf::message>{};
  };
  return {
    [=](lookup_atom, const std::string& key) -> caf::result<caf::message> {
      self->state.meter.measure([] {});
      return route(key, lookup_atom::value, key);
    },
    [=](erase_atom, const std::string& key) -> caf::result<caf::message> {
      self->state.meter.measure([] {});
      return route(key, erase_atom::value, key);
    },
    [=](route_atom, route_table& table) {
      if (table.shards.size() == self->state.shards.size())
        self->state.routes = std::move(table);
    },
    [=](stats_atom) {
      return self->state.meter.measure([&] { return on_stats(self); });
    },
    [=](ready_atom) {
      return self->state.meter.measure([&] { return on_ready(self); });
    },
    [=](join_atom, caf::actor& who) {
      self->monitor(who);
      self->state.joined.push_back(std::move(who));
    },
    [=](introspect_atom) {
      return self->state.meter.measure(
        [&] { return on_introspect_all(self, true); });
    },
    [=](introspect_atom, local_atom) {
      return self->state.meter.measure(
        [&] { return on_introspect_all(self, false); });
    },
    [=](introspect_atom, uint64_t id) {
      return self->state.meter.measure(
        [&] { return on_introspect_one(self, id); });
    },
    [=](introspect_atom, bool deep) -> actor_info {
      return own_info(self, deep);
    },
    [=](tap_atom, caf::actor& sink, std::string& key, int32_t shard,
        uint32_t rate) -> caf::result<uint32_t> {
      auto& shards = self->state.routes.shards;
      auto n = static_cast<uint32_t>(shards.size());
      uint32_t index = key.empty() ? static_cast<uint32_t>(shard)
                                   : shard_of(key, n);
      if (key.empty() && (shard < 0 || index >= n))
        return caf::make_error(caf::sec::invalid_argument,
                               "shard out of range");
      self->send(shards[index], tap_atom::value, std::move(sink),
                 std::move(key), rate);
      return index;
    },
    [=](tick_atom) {
      collect(self, false, [self](const totals& t) {
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
                        caf::timespan summary_interval, std::string node) {
  return sys.spawn(router_impl, std::move(shards), std::move(parsers),
                   query_timeout, summary_interval, std::move(node));
}

} // namespace eventide

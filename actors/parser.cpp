#include "actors/parser.hpp"

#include <algorithm>
#include <chrono>
#include <deque>
#include <functional>
#include <memory>
#include <set>

#include <boost/json.hpp>
#include <caf/all.hpp>
#include <spdlog/spdlog.h>

#include "actors/actor_meter.hpp"
#include "actors/mailbox_depth.hpp"
#include "actors/chunk_decoder.hpp"
#include "messages/cluster.hpp"
#include "messages/introspection.hpp"
#include "messages/messages.hpp"

namespace eventide {

namespace {

/// Collects the shard replies of one chunk; the last one delivers.
///
/// Batches go to shards as requests without a per-request timeout: with
/// thousands of batches a second, CAF's timer thread (one mutex-guarded
/// map, woken per request) cost a fifth of the CPU and most of the ack
/// latency. Instead the parser's own tick expires chunks that waited longer
/// than the timeout; a dead local shard still answers at once with an error.
///
/// Each waiting entry keeps the request message itself (CAF messages are
/// shared, copy-on-write, and the shard only reads it), so a failure can
/// report the seqs of its batch without a copy made up front.
struct fan_in {
  /// A batch of the chunk not answered yet. `gen` is the generation of the
  /// shard's route it was sent on (`queued`: held back while the route
  /// changes), `target` the actor it went to.
  struct pending {
    uint32_t shard = 0;
    uint64_t gen = 0;
    caf::actor_addr target;
    caf::message msg; // (apply_atom, event_batch)
  };
  static constexpr uint64_t queued = ~uint64_t{0};

  chunk_result result;
  std::vector<pending> waiting;
  caf::typed_response_promise<chunk_result> promise;
  std::chrono::steady_clock::time_point started;
  bool sending = true; // requests still going out
  bool delivered = false;
  uint32_t list_limit = 0; // the chunk's: rejections listed at most
  /// Called whenever a sent batch is settled (answered, failed, expired).
  std::function<void(uint32_t shard, uint64_t gen)> settled;

  void add(uint32_t shard, apply_outcome& outcome) {
    if (!take(shard))
      return;
    result.applied += outcome.applied;
    result.duplicates += outcome.duplicates;
    for (auto& rej : outcome.rejected)
      add_rejection(result, std::move(rej), list_limit);
    maybe_deliver();
  }

  /// A shard did not answer: its events are reported, not silently lost.
  void fail(uint32_t shard, error_code code, const std::string& detail) {
    auto it = find(shard);
    if (it == waiting.end())
      return;
    reject_all(it->msg.get_as<event_batch>(1), code, detail);
    auto gen = it->gen;
    waiting.erase(it);
    if (settled)
      settled(shard, gen);
    maybe_deliver();
  }

  /// Every event of `batch` rejected with `code` (the batch never left).
  void reject_all(const event_batch& batch, error_code code,
                  const std::string& detail) {
    for (const auto& rec : batch.events)
      add_rejection(result, {rec.seq, {}, code, detail}, list_limit);
  }

  /// The timeout passed: every shard still missing is reported.
  void expire(const std::string& detail) {
    while (!waiting.empty())
      fail(waiting.back().shard, error_code::overloaded, detail);
  }

  void maybe_deliver() {
    if (sending || delivered || !waiting.empty())
      return;
    delivered = true;
    std::sort(result.rejected.begin(), result.rejected.end(),
              [](const rejection& a, const rejection& b) {
                return a.seq < b.seq;
              });
    promise.deliver(std::move(result));
  }

  std::vector<pending>::iterator find(uint32_t shard) {
    return std::find_if(waiting.begin(), waiting.end(),
                        [shard](auto& w) { return w.shard == shard; });
  }

private:
  bool take(uint32_t shard) {
    auto it = find(shard);
    if (it == waiting.end())
      return false; // already expired
    auto gen = it->gen;
    waiting.erase(it);
    if (settled)
      settled(shard, gen);
    return true;
  }
};

/// Where one shard's batches go (the node actor's route table). When the
/// owner changes, batches for the new owner are held back until every batch
/// sent to the old one is answered: the old owner forwards what it gets
/// after its handoff, so this keeps a connection's events for a key in
/// order across the move (DESIGN.md §1).
struct shard_route {
  caf::actor target;
  bool available = true;
  std::string owner;
  uint64_t gen = 0;
  uint32_t inflight = 0;
  bool draining = false;
  caf::actor next;
  bool next_available = true;
  std::string next_owner;
  /// Chunks with a batch held back; owned here: nothing else keeps a
  /// chunk alive whose only batches wait for the route.
  std::deque<std::shared_ptr<fan_in>> held;
};

constexpr auto watchdog_interval = std::chrono::seconds(1);

struct parser_state {
  static inline const char* name = "parser";
  std::vector<shard_route> routes; // by shard index
  input_limits limits;
  caf::timespan shard_timeout{};
  parser_stats stats;
  uint64_t routed = 0; // events handed to shards
  actor_meter meter;
  decoded_chunk scratch; // reused: one slot per shard, refilled per chunk
  std::deque<std::weak_ptr<fan_in>> outstanding; // in start order
  std::set<caf::actor_addr> monitored;            // remote shard actors
};

using parser_actor = caf::stateful_actor<parser_state>*;

void settle(parser_actor self, uint32_t shard, uint64_t gen);

std::string unavailable_detail(const shard_route& r, uint32_t shard) {
  return "shard " + std::to_string(shard) + " is on node "
         + (r.owner.empty() ? std::string{"?"} : r.owner)
         + ", which is unreachable";
}

/// Sends the batch of `fan` for `shard` (already in `fan->waiting`) on the
/// shard's current route, or rejects it when the owner is unreachable.
void send_batch(parser_actor self, const std::shared_ptr<fan_in>& fan,
                uint32_t s) {
  auto& r = self->state.routes[s];
  auto it = fan->find(s);
  if (it == fan->waiting.end())
    return;
  if (r.draining) {
    it->gen = fan_in::queued;
    r.held.push_back(fan);
    return;
  }
  if (!r.available || !r.target) {
    fan->fail(s, error_code::unavailable, unavailable_detail(r, s));
    return;
  }
  it->gen = r.gen;
  it->target = r.target.address();
  ++r.inflight;
  self->request(r.target, caf::infinite, it->msg)
    .then([fan, s](apply_outcome& outcome) { fan->add(s, outcome); },
          [fan, s, self](caf::error& err) {
            auto detail = "shard did not apply the batch: "
                          + self->system().render(err);
            self->state.meter.note_error(error_code_of(err), detail);
            fan->fail(s, error_code_of(err), detail);
          });
}

/// The route of `s` moves on to its next target; held batches go out.
void switch_route(parser_actor self, uint32_t s) {
  auto& r = self->state.routes[s];
  r.target = std::move(r.next);
  r.available = r.next_available;
  r.owner = std::move(r.next_owner);
  r.next = nullptr;
  r.draining = false;
  ++r.gen;
  auto held = std::move(r.held);
  r.held.clear();
  for (auto& fan : held)
    if (!fan->delivered)
      send_batch(self, fan, s);
}

void settle(parser_actor self, uint32_t s, uint64_t gen) {
  auto& r = self->state.routes[s];
  if (gen != r.gen || r.inflight == 0)
    return;
  if (--r.inflight == 0 && r.draining)
    switch_route(self, s);
}

void on_routes(parser_actor self, const route_table& table) {
  auto& st = self->state;
  if (table.shards.size() != st.routes.size())
    return; // a node actor of another shard count: never sent
  for (uint32_t s = 0; s < table.shards.size(); ++s) {
    auto& r = st.routes[s];
    const auto& target = table.shards[s];
    bool avail = table.available[s] != 0;
    const auto& owner = table.owners[s];
    if (target && target.node() != self->node()
        && st.monitored.insert(target.address()).second)
      self->monitor(target);
    if (target == r.target && !r.draining) {
      r.available = avail;
      r.owner = owner;
      continue;
    }
    r.next = target;
    r.next_available = avail;
    r.next_owner = owner;
    r.draining = true;
    if (r.inflight == 0)
      switch_route(self, s);
  }
}

/// A remote shard actor went down (its node died or was cut off): every
/// batch waiting for it is answered `unavailable`, never acknowledged.
void on_down(parser_actor self, const caf::down_msg& down) {
  auto& st = self->state;
  st.monitored.erase(down.source);
  for (uint32_t s = 0; s < st.routes.size(); ++s) {
    auto& r = st.routes[s];
    if (r.target && r.target.address() == down.source)
      r.available = false;
  }
  for (auto& weak : st.outstanding) {
    auto fan = weak.lock();
    if (!fan || fan->delivered)
      continue;
    std::vector<uint32_t> lost;
    for (auto& w : fan->waiting)
      if (w.gen != fan_in::queued && w.target == down.source)
        lost.push_back(w.shard);
    for (auto s : lost)
      fan->fail(s, error_code::unavailable,
                unavailable_detail(st.routes[s], s));
  }
}

int64_t now_ms() {
  using namespace std::chrono;
  return duration_cast<milliseconds>(system_clock::now().time_since_epoch())
    .count();
}

void count(parser_stats& stats, const ingest_chunk& chunk,
           const chunk_result& result) {
  ++stats.chunks;
  stats.lines += result.line_count;
  stats.bytes += chunk.data.size();
  for (auto& rej : result.rejected)
    ++stats.rejected[static_cast<size_t>(rej.code)];
  for (size_t i = 0; i < result.unlisted.size(); ++i)
    stats.rejected[i] += result.unlisted[i];
}

caf::result<chunk_result> on_chunk(caf::stateful_actor<parser_state>* self,
                                   const ingest_chunk& chunk) {
  auto& st = self->state;
  auto& decoded = st.scratch;
  decode_chunk(chunk, static_cast<uint32_t>(st.routes.size()), st.limits,
               now_ms(), decoded);
  count(st.stats, chunk, decoded.result);
  if (!decoded.result.rejected.empty()) {
    const auto& last = decoded.result.rejected.back();
    st.meter.note_error(last.code, last.detail);
  }
  auto fan = std::make_shared<fan_in>();
  fan->result = std::move(decoded.result);
  fan->list_limit = chunk.list_limit;
  fan->started = std::chrono::steady_clock::now();
  fan->promise = self->make_response_promise<chunk_result>();
  fan->settled = [self](uint32_t shard, uint64_t gen) {
    settle(self, shard, gen);
  };
  for (uint32_t s = 0; s < decoded.per_shard.size(); ++s) {
    auto& batch = decoded.per_shard[s];
    if (batch.empty())
      continue;
    st.routed += batch.size();
    fan->waiting.push_back({s, fan_in::queued, {},
                            caf::make_message(apply_atom::value,
                                              std::move(batch))});
    send_batch(self, fan, s);
  }
  fan->sending = false;
  if (!fan->waiting.empty())
    st.outstanding.push_back(fan);
  auto promise = fan->promise;
  fan->maybe_deliver();
  return promise;
}

actor_info introspect(caf::stateful_actor<parser_state>* self, bool deep) {
  auto& st = self->state;
  actor_info info;
  info.id = self->id();
  info.name = "parser-" + std::to_string(st.stats.index);
  info.kind = "parser";
  st.meter.fill(info, mailbox_depth(*self));
  info.applied = st.routed;
  for (auto n : st.stats.rejected)
    info.rejected += n;
  if (deep) {
    boost::json::object by_code;
    for (std::size_t i = 0; i < error_code_count; ++i)
      if (st.stats.rejected[i] > 0)
        by_code[to_string(static_cast<error_code>(i))] = st.stats.rejected[i];
    boost::json::object detail{
      {"chunks", st.stats.chunks},
      {"lines", st.stats.lines},
      {"bytes", st.stats.bytes},
      {"rejected_by_code", std::move(by_code)},
      {"outstanding_chunks", st.outstanding.size()},
    };
    info.detail = boost::json::serialize(detail);
  }
  return info;
}

/// Expires chunks whose shards did not answer within the timeout.
void on_tick(caf::stateful_actor<parser_state>* self) {
  auto& st = self->state;
  auto now = std::chrono::steady_clock::now();
  if (spdlog::should_log(spdlog::level::debug))
    for (auto& weak : st.outstanding) {
      auto fan = weak.lock();
      if (!fan || fan->delivered || now - fan->started < std::chrono::seconds(3))
        continue;
      for (auto& w : fan->waiting) {
        auto& r = st.routes[w.shard];
        spdlog::debug("parser {}: chunk waits for shard {} (gen {}, route gen "
                      "{}, inflight {}, draining {}, held {}, owner {}, "
                      "available {})",
                      st.stats.index, w.shard, w.gen, r.gen, r.inflight,
                      r.draining, r.held.size(), r.owner, r.available);
      }
      break;
    }
  auto deadline = now - st.shard_timeout;
  while (!st.outstanding.empty()) {
    auto fan = st.outstanding.front().lock();
    if (fan && !fan->delivered) {
      if (fan->started > deadline)
        break;
      fan->expire("shard did not answer in time");
    }
    st.outstanding.pop_front();
  }
}

caf::behavior parser_impl(caf::stateful_actor<parser_state>* self,
                          uint32_t index, std::vector<caf::actor> shards,
                          input_limits limits, caf::timespan shard_timeout) {
  self->state.routes.resize(shards.size());
  for (std::size_t s = 0; s < shards.size(); ++s)
    self->state.routes[s].target = std::move(shards[s]);
  self->state.limits = limits;
  self->set_down_handler(
    [self](const caf::down_msg& down) { on_down(self, down); });
  self->state.shard_timeout = shard_timeout;
  self->state.stats.index = index;
  self->delayed_send(self, watchdog_interval, tick_atom::value);
  return {
    [=](ingest_atom, const ingest_chunk& chunk) -> caf::result<chunk_result> {
      return self->state.meter.measure([&] { return on_chunk(self, chunk); });
    },
    [=](introspect_atom, bool deep) -> actor_info {
      return introspect(self, deep);
    },
    [=](stats_atom) -> parser_stats { return self->state.stats; },
    [=](route_atom, const route_table& table) { on_routes(self, table); },
    [=](tick_atom) {
      on_tick(self);
      self->delayed_send(self, watchdog_interval, tick_atom::value);
    },
  };
}

} // namespace

caf::actor spawn_parser(caf::actor_system& sys, uint32_t index,
                        std::vector<caf::actor> shards, input_limits limits,
                        caf::timespan shard_timeout) {
  return sys.spawn(parser_impl, index, std::move(shards), limits,
                   shard_timeout);
}

} // namespace eventide

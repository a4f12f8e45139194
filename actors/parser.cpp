#include "actors/parser.hpp"

#include <algorithm>
#include <chrono>
#include <deque>
#include <memory>

#include <boost/json.hpp>
#include <caf/all.hpp>

#include "actors/actor_meter.hpp"
#include "actors/mailbox_depth.hpp"
#include "actors/chunk_decoder.hpp"
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
  chunk_result result;
  /// Shards not yet answered, with the `(apply_atom, event_batch)` request
  /// sent to each.
  std::vector<std::pair<uint32_t, caf::message>> waiting;
  caf::typed_response_promise<chunk_result> promise;
  std::chrono::steady_clock::time_point started;
  bool sending = true; // requests still going out
  bool delivered = false;
  uint32_t list_limit = 0; // the chunk's: rejections listed at most

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
    for (const auto& rec : it->second.get_as<event_batch>(1).events)
      add_rejection(result, {rec.seq, {}, code, detail}, list_limit);
    waiting.erase(it);
    maybe_deliver();
  }

  /// The timeout passed: every shard still missing is reported.
  void expire(const std::string& detail) {
    while (!waiting.empty())
      fail(waiting.back().first, error_code::overloaded, detail);
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

private:
  std::vector<std::pair<uint32_t, caf::message>>::iterator
  find(uint32_t shard) {
    return std::find_if(waiting.begin(), waiting.end(),
                        [shard](auto& w) { return w.first == shard; });
  }

  bool take(uint32_t shard) {
    auto it = find(shard);
    if (it == waiting.end())
      return false; // already expired
    waiting.erase(it);
    return true;
  }
};

constexpr auto watchdog_interval = std::chrono::seconds(1);

struct parser_state {
  static inline const char* name = "parser";
  std::vector<caf::actor> shards;
  input_limits limits;
  caf::timespan shard_timeout{};
  parser_stats stats;
  uint64_t routed = 0; // events handed to shards
  actor_meter meter;
  decoded_chunk scratch; // reused: one slot per shard, refilled per chunk
  std::deque<std::weak_ptr<fan_in>> outstanding; // in start order
};

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
  decode_chunk(chunk, static_cast<uint32_t>(st.shards.size()), st.limits,
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
  for (uint32_t s = 0; s < decoded.per_shard.size(); ++s) {
    auto& batch = decoded.per_shard[s];
    if (batch.empty())
      continue;
    st.routed += batch.size();
    auto msg = caf::make_message(apply_atom::value, std::move(batch));
    fan->waiting.emplace_back(s, msg);
    self->request(st.shards[s], caf::infinite, std::move(msg))
      .then([fan, s](apply_outcome& outcome) { fan->add(s, outcome); },
            [fan, s, self](caf::error& err) {
              auto detail = "shard did not apply the batch: "
                            + self->system().render(err);
              self->state.meter.note_error(error_code_of(err), detail);
              fan->fail(s, error_code_of(err), detail);
            });
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
  auto deadline = std::chrono::steady_clock::now() - st.shard_timeout;
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
  self->state.shards = std::move(shards);
  self->state.limits = limits;
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

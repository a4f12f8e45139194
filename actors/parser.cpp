#include "actors/parser.hpp"

#include <algorithm>
#include <chrono>
#include <memory>

#include <caf/all.hpp>

#include "actors/chunk_decoder.hpp"
#include "messages/messages.hpp"

namespace eventide {

namespace {

/// Collects the shard replies of one chunk; the last one delivers.
struct fan_in {
  chunk_result result;
  size_t pending = 0;
  caf::typed_response_promise<chunk_result> promise;

  void add(apply_outcome& outcome) {
    result.applied += outcome.applied;
    result.duplicates += outcome.duplicates;
    std::move(outcome.rejected.begin(), outcome.rejected.end(),
              std::back_inserter(result.rejected));
    done_one();
  }

  /// A shard did not answer: its events are reported, not silently lost.
  void fail(const std::vector<uint64_t>& seqs, error_code code,
            const std::string& detail) {
    for (auto seq : seqs)
      result.rejected.push_back({seq, {}, code, detail});
    done_one();
  }

  void done_one() {
    if (--pending > 0)
      return;
    std::sort(result.rejected.begin(), result.rejected.end(),
              [](const rejection& a, const rejection& b) {
                return a.seq < b.seq;
              });
    promise.deliver(std::move(result));
  }
};

struct parser_state {
  static inline const char* name = "parser";
  std::vector<caf::actor> shards;
  input_limits limits;
  caf::timespan shard_timeout{};
  parser_stats stats;
  decoded_chunk scratch; // reused to keep per-shard vectors' capacity
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
}

error_code code_for(const caf::error& err) {
  if (err == caf::sec::request_timeout)
    return error_code::overloaded;
  return error_code::internal;
}

caf::result<chunk_result> on_chunk(caf::stateful_actor<parser_state>* self,
                                   const ingest_chunk& chunk) {
  auto& st = self->state;
  auto& decoded = st.scratch;
  decode_chunk(chunk, static_cast<uint32_t>(st.shards.size()), st.limits,
               now_ms(), decoded);
  count(st.stats, chunk, decoded.result);
  auto fan = std::make_shared<fan_in>();
  fan->result = std::move(decoded.result);
  for (auto& events : decoded.per_shard)
    fan->pending += events.empty() ? 0 : 1;
  if (fan->pending == 0)
    return std::move(fan->result);
  fan->promise = self->make_response_promise<chunk_result>();
  ++fan->pending; // held until every request is out
  for (uint32_t s = 0; s < decoded.per_shard.size(); ++s) {
    auto& events = decoded.per_shard[s];
    if (events.empty())
      continue;
    std::vector<uint64_t> seqs;
    seqs.reserve(events.size());
    for (auto& ev : events)
      seqs.push_back(ev.seq);
    event_batch batch{s, std::move(events)};
    events = {};
    self->request(st.shards[s], st.shard_timeout, apply_atom::value,
                  std::move(batch))
      .then([fan](apply_outcome& outcome) { fan->add(outcome); },
            [fan, seqs = std::move(seqs), self](caf::error& err) {
              fan->fail(seqs, code_for(err),
                        "shard did not apply the batch: "
                          + self->system().render(err));
            });
  }
  auto promise = fan->promise;
  fan->done_one();
  return promise;
}

caf::behavior parser_impl(caf::stateful_actor<parser_state>* self,
                          uint32_t index, std::vector<caf::actor> shards,
                          input_limits limits, caf::timespan shard_timeout) {
  self->state.shards = std::move(shards);
  self->state.limits = limits;
  self->state.shard_timeout = shard_timeout;
  self->state.stats.index = index;
  return {
    [=](ingest_atom, const ingest_chunk& chunk) -> caf::result<chunk_result> {
      return on_chunk(self, chunk);
    },
    [=](stats_atom) -> parser_stats { return self->state.stats; },
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

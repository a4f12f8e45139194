// eventide-pipeline-bench: what the actor layer costs, without the network.
//
// The same pre-cut NDJSON chunks are processed twice per repetition:
//  1. a plain single-threaded loop: decode_chunk + shard_store::apply for
//     every shard, no CAF at all;
//  2. the real actors: parse actors and shard actors spawned as the server
//     does, chunks sent to the parse actors (a window of requests in
//     flight, chunk i pinned to parser i % P) until every result is back.
// It reports events/s of both, and the actor pipeline's events per CPU
// second (process user+system time during the run), so that "per core" can
// be compared with the single-threaded loop on a machine with few cores.
#include <sys/resource.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <future>
#include <iostream>
#include <random>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>
#include <caf/all.hpp>

#include "actors/chunk_decoder.hpp"
#include "actors/parser.hpp"
#include "actors/shard.hpp"
#include "actors/shard_store.hpp"
#include "messages/messages.hpp"

namespace {

using namespace eventide;
using clock_type = std::chrono::steady_clock;

struct pipeline_options {
  uint64_t events = 1000000;
  uint64_t keys = 100000;
  uint32_t fields = 3;
  uint32_t chunk_lines = 1000;
  uint32_t parsers = 2;
  uint32_t shards = 64;
  uint32_t threads = 2;
  uint32_t window = 64; // chunks in flight
  uint32_t reps = 3;
  uint64_t dedup_window = 1000000;
  bool json = false;
};

std::vector<ingest_chunk> make_chunks(const pipeline_options& o) {
  std::mt19937_64 rng{42};
  std::uniform_int_distribution<uint64_t> key{0, o.keys - 1};
  std::vector<ingest_chunk> chunks;
  ingest_chunk chunk;
  for (uint64_t i = 0; i < o.events; ++i) {
    auto& d = chunk.data;
    d += R"({"id":"p-)" + std::to_string(i) + R"(","key":"k:)"
         + std::to_string(key(rng)) + R"(","op":")"
         + (i % 2 == 0 ? "set" : "incr") + R"(","data":{"n":1)";
    for (uint32_t f = 0; f < o.fields; ++f)
      d += ",\"f" + std::to_string(f) + "\":" + std::to_string(i % 1000);
    d += "}}\n";
    if (++chunk.line_count == o.chunk_lines || i + 1 == o.events) {
      chunks.push_back(std::move(chunk));
      chunk = ingest_chunk{};
    }
  }
  uint64_t seq = 1;
  for (auto& c : chunks) {
    c.first_seq = seq;
    seq += c.line_count;
  }
  return chunks;
}

double cpu_seconds() {
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  auto tv = [](const timeval& t) { return t.tv_sec + t.tv_usec / 1e6; };
  return tv(ru.ru_utime) + tv(ru.ru_stime);
}

double seconds_since(clock_type::time_point start) {
  return std::chrono::duration<double>(clock_type::now() - start).count();
}

/// Returns events applied and seconds for the plain loop.
std::pair<uint64_t, double> run_plain(const pipeline_options& o,
                                      const std::vector<ingest_chunk>& chunks) {
  std::vector<shard_store> stores;
  auto per_shard = (o.dedup_window + o.shards - 1) / o.shards;
  for (uint32_t s = 0; s < o.shards; ++s)
    stores.emplace_back(s, shard_limits{per_shard});
  decoded_chunk decoded;
  uint64_t applied = 0;
  auto start = clock_type::now();
  for (auto& chunk : chunks) {
    decode_chunk(chunk, o.shards, input_limits{}, 1764000000000, decoded);
    for (uint32_t s = 0; s < o.shards; ++s)
      if (!decoded.per_shard[s].empty())
        applied += stores[s].apply(decoded.per_shard[s]).applied;
  }
  return {applied, seconds_since(start)};
}

struct driver_state {
  const std::vector<ingest_chunk>* chunks = nullptr;
  std::vector<caf::actor> parsers;
  std::promise<uint64_t>* finished = nullptr;
  size_t next = 0;
  size_t done = 0;
  uint64_t applied = 0;
};

using driver_actor = caf::stateful_actor<driver_state>*;

/// Sends the next chunk, if any; its answer sends the one after.
void send_next(driver_actor self) {
  auto& st = self->state;
  auto i = st.next++;
  if (i >= st.chunks->size())
    return;
  self
    ->request(st.parsers[i % st.parsers.size()], std::chrono::seconds(60),
              ingest_atom::value, (*st.chunks)[i])
    .then(
      [self](const chunk_result& r) {
        auto& st = self->state;
        st.applied += r.applied;
        if (++st.done == st.chunks->size()) {
          st.finished->set_value(st.applied);
          self->quit();
          return;
        }
        send_next(self);
      },
      [self](caf::error& err) {
        std::cerr << "pipeline: " << self->system().render(err) << "\n";
        self->state.finished->set_value(0);
        self->quit();
      });
}

/// Keeps `window` chunks in flight until every result is back.
caf::behavior driver(driver_actor self, const std::vector<ingest_chunk>* chunks,
                     std::vector<caf::actor> parsers, uint32_t window,
                     std::promise<uint64_t>* finished) {
  self->state.chunks = chunks;
  self->state.parsers = std::move(parsers);
  self->state.finished = finished;
  for (uint32_t w = 0; w < window; ++w)
    send_next(self);
  return {[](int) {}};
}

struct actor_result {
  uint64_t applied = 0;
  double seconds = 0;
  double cpu = 0;
};

actor_result run_actors(const pipeline_options& o,
                        const std::vector<ingest_chunk>& chunks) {
  caf::actor_system_config cfg;
  register_message_types(cfg);
  cfg.set("scheduler.max-threads", o.threads);
  caf::actor_system sys{cfg};
  std::vector<caf::actor> shards;
  auto per_shard = (o.dedup_window + o.shards - 1) / o.shards;
  for (uint32_t s = 0; s < o.shards; ++s)
    shards.push_back(spawn_shard(sys, s, shard_options{shard_limits{per_shard}}));
  std::vector<caf::actor> parsers;
  for (uint32_t p = 0; p < o.parsers; ++p)
    parsers.push_back(spawn_parser(sys, p, shards, input_limits{},
                                   std::chrono::seconds(60)));
  std::promise<uint64_t> finished;
  auto cpu0 = cpu_seconds();
  auto start = clock_type::now();
  sys.spawn(driver, &chunks, parsers, o.window, &finished);
  actor_result res;
  res.applied = finished.get_future().get();
  res.seconds = seconds_since(start);
  res.cpu = cpu_seconds() - cpu0;
  for (auto& a : parsers)
    caf::anon_send_exit(a, caf::exit_reason::user_shutdown);
  for (auto& a : shards)
    caf::anon_send_exit(a, caf::exit_reason::user_shutdown);
  return res;
}

double median(std::vector<double> xs) {
  std::sort(xs.begin(), xs.end());
  return xs[xs.size() / 2];
}

} // namespace

int main(int argc, char** argv) {
  pipeline_options o;
  CLI::App app{"eventide-pipeline-bench: the actor pipeline against a plain "
               "single-threaded loop over the same codec and store"};
  app.add_option("--events", o.events, "events")->capture_default_str();
  app.add_option("--keys", o.keys, "key cardinality")->capture_default_str();
  app.add_option("--fields", o.fields, "data members besides n")
    ->capture_default_str();
  app.add_option("--chunk-lines", o.chunk_lines, "lines per chunk")
    ->capture_default_str()
    ->check(CLI::Range(1u, 1000000u));
  app.add_option("--parsers", o.parsers, "parse actors")
    ->capture_default_str()
    ->check(CLI::Range(1u, 64u));
  app.add_option("--shards", o.shards, "shard actors")
    ->capture_default_str()
    ->check(CLI::Range(1u, 4096u));
  app.add_option("--threads", o.threads, "CAF scheduler threads")
    ->capture_default_str()
    ->check(CLI::Range(1u, 64u));
  app.add_option("--window", o.window, "chunks in flight")
    ->capture_default_str()
    ->check(CLI::Range(1u, 100000u));
  app.add_option("--reps", o.reps, "repetitions (medians are reported)")
    ->capture_default_str()
    ->check(CLI::Range(1u, 100u));
  app.add_flag("--json", o.json, "one JSON object on stdout");
  CLI11_PARSE(app, argc, argv);

  auto chunks = make_chunks(o);
  std::vector<double> plain_eps, actor_eps, actor_per_cpu;
  for (uint32_t r = 0; r < o.reps; ++r) {
    auto [plain_applied, plain_s] = run_plain(o, chunks);
    auto actors = run_actors(o, chunks);
    if (plain_applied != o.events || actors.applied != o.events) {
      std::cerr << "pipeline: applied " << plain_applied << " (plain) and "
                << actors.applied << " (actors) of " << o.events << "\n";
      return 1;
    }
    plain_eps.push_back(o.events / plain_s);
    actor_eps.push_back(o.events / actors.seconds);
    actor_per_cpu.push_back(o.events / actors.cpu);
  }
  auto plain = median(plain_eps);
  auto actors = median(actor_eps);
  auto per_cpu = median(actor_per_cpu);
  if (o.json) {
    std::printf("{\"events\":%llu,\"plain_events_per_s\":%.0f,"
                "\"actor_events_per_s\":%.0f,"
                "\"actor_events_per_cpu_s\":%.0f,\"per_core_ratio\":%.3f}\n",
                static_cast<unsigned long long>(o.events), plain, actors,
                per_cpu, per_cpu / plain);
    return 0;
  }
  std::printf("plain loop (1 thread)      %10.0f events/s\n", plain);
  std::printf("actor pipeline (%u threads) %10.0f events/s, %.0f events "
              "per CPU second\n",
              o.threads, actors, per_cpu);
  std::printf("per core: actors / plain = %.0f %%\n", 100 * per_cpu / plain);
  return 0;
}

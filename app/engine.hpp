#pragma once

#include <atomic>
#include <cstdint>
#include <vector>

#include <caf/actor.hpp>
#include <caf/fwd.hpp>
#include <caf/timespan.hpp>

#include "actors/event_codec.hpp"
#include "app/backend.hpp"

namespace eventide {

/// What the engine needs to know at start.
struct engine_config {
  uint32_t parsers = 2;
  uint32_t shards = 64;
  input_limits limits;
  uint64_t dedup_window = 1000000; // per node; split evenly over shards
  caf::timespan request_timeout = std::chrono::seconds(30);
  caf::timespan query_timeout = std::chrono::seconds(5);
  caf::timespan summary_interval = std::chrono::seconds(10);
};

/// The actor side of eventide: spawns shards, parse actors and the router,
/// and implements `backend` for the network front ends. Every call is
/// asynchronous; replies reach the callbacks from actor threads.
class engine : public backend {
public:
  engine(caf::actor_system& sys, engine_config cfg);
  ~engine() override;

  engine(const engine&) = delete;
  engine& operator=(const engine&) = delete;

  std::unique_ptr<channel> open_channel(result_handler on_result) override;
  void post_events(ingest_chunk chunk, result_handler done) override;
  void get_key(std::string key,
               std::function<void(outcome<std::optional<std::string>>)> done)
    override;
  void delete_key(std::string key,
                  std::function<void(outcome<bool>)> done) override;
  void stats(std::function<void(outcome<std::string>)> done) override;
  void ready(std::function<void(outcome<bool>)> done) override;

  /// Stops every actor of the engine; afterwards the actor system can end.
  void stop();

private:
  caf::actor next_parser();

  caf::actor_system& sys_;
  engine_config cfg_;
  std::vector<caf::actor> shards_;
  std::vector<caf::actor> parsers_;
  caf::actor router_;
  std::atomic<uint64_t> next_parser_{0};
};

} // namespace eventide

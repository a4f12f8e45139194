#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include <caf/actor.hpp>
#include <caf/fwd.hpp>
#include <caf/timespan.hpp>

#include "actors/event_codec.hpp"
#include "actors/listener_probe.hpp"
#include "actors/storage.hpp"
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
  caf::timespan slow_batch = std::chrono::milliseconds(250);
  std::string node_name = "standalone";
  /// Durability: with `durable`, shards recover from and persist to
  /// `storage.dir` (storage.mode=disk); otherwise memory only.
  bool durable = false;
  storage_options storage;
  /// Cluster (DESIGN.md §7): with `cluster_port` != 0 the node actor is
  /// published on cluster_host:cluster_port and joins through the seeds.
  std::string cluster_name = "eventide";
  std::string cluster_host = "127.0.0.1";
  uint16_t cluster_port = 0;
  std::vector<std::string> cluster_seeds;
  bool cluster_tls = false; // nodes talk through CAF's OpenSSL module
  /// Called when the cluster refuses this node, or when it has left: the
  /// server then stops (with an error for a refusal).
  std::function<void(std::string)> on_refused;
  std::function<void()> on_left;
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

  std::unique_ptr<channel> open_channel(result_handler on_result,
                                        std::string peer) override;
  void post_events(ingest_chunk chunk, result_handler done) override;
  void get_key(std::string key,
               std::function<void(outcome<std::optional<std::string>>)> done)
    override;
  void delete_key(std::string key,
                  std::function<void(outcome<bool>)> done) override;
  void stats(std::function<void(outcome<system_totals>)> done) override;
  void ready(std::function<void(outcome<bool>)> done) override;
  void actors(
    std::function<void(outcome<std::vector<actor_info>>)> done) override;
  void actor(uint64_t id,
             std::function<void(outcome<std::optional<actor_info>>)> done)
    override;
  void cluster(std::function<void(outcome<cluster_view>)> done) override;
  void cluster_command(std::string command, std::string node,
                       std::function<void(outcome<std::string>)> done)
    override;

  /// The host:port the node actor is published on; empty standalone.
  const std::string& cluster_address() const {
    return cluster_address_;
  }
  void open_tap(
    tap_request what, tap_sink on_record,
    std::function<void(outcome<std::shared_ptr<tap_handle>>)> opened) override;

  /// Shows a network listener in the admin console; `read` must be safe to
  /// call from any thread while the engine runs.
  void add_listener(std::string name, std::string address,
                    std::function<listener_counts()> read);

  /// Ends the listener probes (before the listeners go away).
  void remove_listeners();

  /// Stops every actor of the engine; afterwards the actor system can end.
  void stop();

private:
  caf::actor next_parser();

  caf::actor_system& sys_;
  engine_config cfg_;
  std::vector<caf::actor> shards_;
  std::vector<caf::actor> parsers_;
  caf::actor router_;
  std::vector<caf::actor> probes_; // listener probes
  caf::actor storage_;
  caf::actor node_; // cluster only
  std::string cluster_address_;
  std::atomic<uint64_t> next_parser_{0};
};

} // namespace eventide

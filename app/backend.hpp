#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <variant>

#include "messages/error_code.hpp"
#include "messages/ingest.hpp"
#include "messages/introspection.hpp"

namespace eventide {

/// A failure between the front end and the actors (timeout, overload, ...).
struct failure {
  error_code code = error_code::internal;
  std::string detail;
};

/// A value or a failure, handed to a front-end callback.
template <class T>
using outcome = std::variant<T, failure>;

/// What the network front ends (TCP ingest, HTTP API) need from the actor
/// system. The front ends hold no state of the engine: every call is
/// asynchronous, and callbacks run on an arbitrary (actor) thread, so a
/// front end posts them onto its connection's strand. Callbacks are always
/// invoked exactly once, also when the engine shuts down.
class backend {
public:
  virtual ~backend() = default;

  /// One ingest connection: chunks submitted through one channel are
  /// applied in submission order per key (they are pinned to one parse
  /// actor). Results may complete out of order across chunks; the session
  /// reorders them by `first_seq` before acknowledging.
  class channel {
  public:
    virtual ~channel() = default;
    virtual void submit(ingest_chunk chunk) = 0;
  };

  using result_handler = std::function<void(outcome<chunk_result>)>;

  /// Opens a channel whose results go to `on_result` (one call per chunk);
  /// `peer` names the client in the admin console.
  /// The engine always answers a channel's chunk with a `chunk_result`
  /// covering exactly that chunk (a chunk it failed to process comes back
  /// with every line rejected), so a front end can tell chunks apart; a
  /// `failure` here is a defensive fallback only.
  /// Destroying the channel after all results arrived releases it.
  virtual std::unique_ptr<channel> open_channel(result_handler on_result,
                                                std::string peer) = 0;

  /// One HTTP POST body as one chunk.
  virtual void post_events(ingest_chunk chunk, result_handler done) = 0;

  /// The record JSON of `key`, nullopt when absent.
  virtual void get_key(std::string key,
                       std::function<void(outcome<std::optional<std::string>>)>
                         done) = 0;

  /// Deletes `key`; true when it existed.
  virtual void delete_key(std::string key,
                          std::function<void(outcome<bool>)> done) = 0;

  /// Totals for `GET /v1/stats` and `/metrics`.
  virtual void stats(std::function<void(outcome<system_totals>)> done) = 0;

  /// `GET /readyz`: all shards placed and answering.
  virtual void ready(std::function<void(outcome<bool>)> done) = 0;

  /// Every actor of the engine (`GET /v1/actors`), sorted by id.
  virtual void
  actors(std::function<void(outcome<std::vector<actor_info>>)> done) = 0;

  /// One actor in depth (`GET /v1/actors/{id}`); nullopt when unknown.
  virtual void
  actor(uint64_t id,
        std::function<void(outcome<std::optional<actor_info>>)> done) = 0;

  /// Members and placement (`GET /v1/cluster`).
  virtual void cluster(std::function<void(outcome<cluster_view>)> done) = 0;

  /// `POST /v1/cluster/leave` and `/v1/cluster/remove`: `command` is
  /// "leave" or "remove", `node` the member's name; answers what happened.
  virtual void cluster_command(std::string command, std::string node,
                               std::function<void(outcome<std::string>)> done)
    = 0;

  /// A live tap (`GET /v1/tap`): records flow to the sink until the handle
  /// is destroyed.
  class tap_handle {
  public:
    virtual ~tap_handle() = default;
    uint32_t shard = 0; // the shard being tapped
  };

  /// What to tap: one key, or one whole shard (key empty).
  struct tap_request {
    std::string key;
    int32_t shard = -1;
    uint32_t rate = 100; // records per second at most
  };

  using tap_sink = std::function<void(tap_record)>;

  /// Starts a tap; `on_record` runs on actor threads for every sampled
  /// record, `opened` once with the handle or the failure.
  virtual void
  open_tap(tap_request what, tap_sink on_record,
           std::function<void(outcome<std::shared_ptr<tap_handle>>)> opened)
    = 0;
};

} // namespace eventide

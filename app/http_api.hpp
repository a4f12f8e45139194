#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>

#include "app/auth.hpp"
#include "app/backend.hpp"
#include "app/tcp_ingest.hpp"

namespace eventide {

/// Limits of the HTTP API (DESIGN.md §5, §9).
struct http_options {
  std::size_t max_body = 16777216;     // http.max-body
  std::size_t max_event_bytes = 65536; // longest NDJSON line of a POST body
  std::size_t max_header_bytes = 16384; // http.max-header-bytes
  std::size_t max_connections = 1024;   // limits.max-connections
  /// Keep-alive idle, and the longest pause while reading a body or
  /// writing an answer (limits.idle-timeout-ms).
  std::chrono::milliseconds idle_timeout{60000};
  /// From a request's first byte (a new connection: from accept) until
  /// its header is complete (limits.header-timeout-ms).
  std::chrono::milliseconds header_timeout{10000};
  /// The TCP ingest's counters for /v1/stats and /metrics (any thread);
  /// empty when there is no TCP listener.
  std::function<ingest_stats()> ingest_counters;
  /// Set: routes other than health and /admin need a bearer token.
  std::shared_ptr<authenticator> auth{};
};

/// Counters of the HTTP API, for /v1/stats and /metrics.
struct http_stats {
  uint64_t connections_accepted = 0;
  uint64_t connections_open = 0;
  uint64_t requests = 0;
  uint64_t responses_4xx = 0;
  uint64_t responses_5xx = 0;
  uint64_t accept_errors = 0;
  uint64_t body_bytes = 0; // request bodies read
  uint64_t connections_rejected = 0;  // over limits.max-connections
  uint64_t connections_timed_out = 0; // idle or header timeout
};

/// The HTTP/1.1 API of DESIGN.md §5 (Boost.Beast): keep-alive, pipelined
/// requests answered in order, one request at a time per connection. Every
/// answer is JSON. Safe with an io_context run by several threads; the
/// backend must outlive every session.
class http_api {
public:
  /// Binds `endpoint` (with reuse_address); throws std::runtime_error naming
  /// the address when it cannot.
  http_api(boost::asio::io_context& io,
           const boost::asio::ip::tcp::endpoint& endpoint, backend& be,
           http_options options = {});
  ~http_api();
  http_api(const http_api&) = delete;
  http_api& operator=(const http_api&) = delete;

  /// The bound address (the real port when asked for port 0).
  boost::asio::ip::tcp::endpoint local_endpoint() const;

  /// Starts accepting connections.
  void start();

  /// Stops accepting, lets in-flight requests finish (answered with
  /// `Connection: close`) and closes idle connections. `done` runs (on the
  /// io_context) once every connection is gone.
  void shutdown(std::function<void()> done);

  /// A snapshot of the counters; callable from any thread.
  http_stats stats() const;

  class impl;

private:
  std::shared_ptr<impl> impl_;
};

} // namespace eventide

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
#include "app/latency_histogram.hpp"

namespace eventide {

/// Limits of one TCP ingest listener (DESIGN.md §9).
struct ingest_options {
  std::size_t max_inflight = 65536;      // unacknowledged lines per connection
  std::size_t max_event_bytes = 65536;   // longest line
  std::size_t read_buffer_bytes = 65536; // bytes per socket read
  std::size_t max_write_queue = 1 << 20; // pending reply bytes before pausing
  std::size_t max_chunk_bytes = 1 << 20;  // coalesce reads up to this size
  std::size_t max_connections = 1024;    // limits.max-connections
  std::chrono::milliseconds idle_timeout{60000}; // limits.idle-timeout-ms
  /// Bytes of submitted, unacknowledged lines before reading pauses.
  std::size_t max_inflight_bytes = 8 << 20;
  /// Set: the first line must be {"auth":"TOKEN"} of a `write` token.
  std::shared_ptr<authenticator> auth{};
};

/// Counters of a TCP ingest listener, for /v1/stats and /metrics.
struct ingest_stats {
  uint64_t connections_accepted = 0;
  uint64_t connections_open = 0;
  uint64_t bytes_read = 0;
  uint64_t lines_submitted = 0; // lines handed to the backend
  uint64_t lines_acked = 0;     // lines covered by an ack sent to a client
  uint64_t chunks_failed = 0;   // chunks the backend answered with a failure
  uint64_t client_errors = 0;   // resets, broken pipes, ...
  uint64_t accept_errors = 0;
  uint64_t connections_rejected = 0; // over limits.max-connections
  uint64_t connections_timed_out = 0; // closed by limits.idle-timeout-ms
  latency_snapshot ack_latency; // from reading a chunk to its ack
};

/// The NDJSON-over-TCP listener of DESIGN.md §4: one session per connection
/// cuts lines, submits them through its own backend channel and writes
/// error lines and cumulative acks back. Safe to use with an io_context run
/// by several threads; the backend must outlive every session.
class tcp_ingest {
public:
  /// Binds `endpoint` (with reuse_address); throws std::runtime_error naming
  /// the address when it cannot.
  tcp_ingest(boost::asio::io_context& io,
             const boost::asio::ip::tcp::endpoint& endpoint, backend& be,
             ingest_options options = {});
  ~tcp_ingest();
  tcp_ingest(const tcp_ingest&) = delete;
  tcp_ingest& operator=(const tcp_ingest&) = delete;

  /// The bound address (the real port when asked for port 0).
  boost::asio::ip::tcp::endpoint local_endpoint() const;

  /// Starts accepting connections.
  void start();

  /// Stops accepting; every session stops reading, acknowledges what it has
  /// read and closes. `done` runs (on the io_context) once all are gone.
  void shutdown(std::function<void()> done);

  /// A snapshot of the counters; callable from any thread.
  ingest_stats stats() const;

  class impl;

private:
  std::shared_ptr<impl> impl_;
};

} // namespace eventide

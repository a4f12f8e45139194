#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>

#include "app/bench/run_stats.hpp"
#include "app/bench/workload.hpp"

namespace eventide::bench {

/// Walks one plan's chunks in order (on schedule when paced) and turns acks
/// into latencies; subclasses put the bytes on the wire. Every member runs
/// on the one thread that runs the io_context, so nothing is locked.
class chunk_streamer {
public:
  chunk_streamer(boost::asio::io_context& ioc, const connection_plan& plan,
                 connection_result& result, uint32_t lines_per_chunk);
  virtual ~chunk_streamer() = default;
  chunk_streamer(const chunk_streamer&) = delete;
  chunk_streamer& operator=(const chunk_streamer&) = delete;

  /// Queues the first step; call before the io_context runs.
  void start(const run_params& params);

protected:
  /// Sends chunk `i`; call `chunk_sent` or `stop_sending` when it is out.
  virtual void send_chunk(size_t i) = 0;
  /// Every chunk is out, or the deadline passed, or sending stopped.
  virtual void end_of_plan() = 0;
  /// Called on start, before the first chunk (e.g. to start reading).
  virtual void on_start() {
  }

  void schedule_next();
  /// Chunk `next_` is fully written.
  void chunk_sent(size_t bytes);
  /// The server reports every line up to `seq` done.
  void record_ack(uint64_t seq, bench_clock::time_point now);
  /// No more chunks, e.g. after a connection failure.
  void stop_sending();
  void fault(std::string what);

  /// Seq of the last line handed to the socket (0 before the first).
  uint64_t last_seq_issued() const {
    return issued_ == 0 ? 0 : plan_.chunks[issued_ - 1].last_seq;
  }

  boost::asio::io_context& ioc_;
  const connection_plan& plan_;
  connection_result& result_;
  run_params params_;
  uint32_t lines_per_chunk_;

private:
  void on_timer(const boost::system::error_code& ec);
  void issue(size_t i, bench_clock::time_point now);
  bench_clock::time_point scheduled(size_t i) const;

  boost::asio::steady_timer timer_;
  std::vector<bench_clock::time_point> send_times_;  // pre-sized: no growth
  size_t next_ = 0;     // next chunk to send
  size_t issued_ = 0;   // chunks handed to the socket
  size_t acked_ = 0;    // chunks whose last line is acknowledged
  bool stopped_ = false;
  bool plan_ended_ = false;
};

}  // namespace eventide::bench

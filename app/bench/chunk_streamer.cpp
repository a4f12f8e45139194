#include "app/bench/chunk_streamer.hpp"

#include <algorithm>
#include <utility>

#include <boost/asio/post.hpp>

namespace eventide::bench {

chunk_streamer::chunk_streamer(boost::asio::io_context& ioc,
                               const connection_plan& plan,
                               connection_result& result,
                               uint32_t lines_per_chunk)
  : ioc_(ioc),
    plan_(plan),
    result_(result),
    lines_per_chunk_(lines_per_chunk),
    timer_(ioc),
    send_times_(plan.chunks.size()) {
  result_.latency_ns.reserve(plan.chunks.size());
}

void chunk_streamer::start(const run_params& params) {
  params_ = params;
  if (params_.conn_rate > 0)
    result_.sched_latency_ns.reserve(plan_.chunks.size());
  boost::asio::post(ioc_, [this] {
    on_start();
    schedule_next();
  });
}

void chunk_streamer::schedule_next() {
  auto now = bench_clock::now();
  if (stopped_ || next_ == plan_.chunks.size() || now >= params_.deadline) {
    if (!std::exchange(plan_ended_, true))
      end_of_plan();
    return;
  }
  if (params_.conn_rate > 0) {
    auto at = scheduled(next_);
    if (at > now) {
      timer_.expires_at(std::min(at, params_.deadline));
      timer_.async_wait([this](auto ec) { on_timer(ec); });
      return;
    }
  }
  issue(next_, now);
}

void chunk_streamer::on_timer(const boost::system::error_code& ec) {
  if (ec && !stopped_)
    fault("pacing timer: " + ec.message());
  schedule_next();
}

void chunk_streamer::issue(size_t i, bench_clock::time_point now) {
  send_times_[i] = now;
  issued_ = i + 1;
  send_chunk(i);
}

void chunk_streamer::chunk_sent(size_t bytes) {
  const auto& c = plan_.chunks[next_];
  result_.bytes_sent += bytes;
  result_.chunks_sent = ++next_;
  result_.lines_sent.store(c.last_seq, std::memory_order_relaxed);
  schedule_next();
}

void chunk_streamer::record_ack(uint64_t seq, bench_clock::time_point now) {
  while (acked_ < issued_ && plan_.chunks[acked_].last_seq <= seq) {
    result_.latency_ns.push_back((now - send_times_[acked_]).count());
    if (params_.conn_rate > 0)
      result_.sched_latency_ns.push_back((now - scheduled(acked_)).count());
    ++acked_;
  }
  result_.lines_acked.store(seq, std::memory_order_relaxed);
}

void chunk_streamer::stop_sending() {
  stopped_ = true;
  timer_.cancel();
}

void chunk_streamer::fault(std::string what) {
  add_fault(result_, std::move(what));
}

bench_clock::time_point chunk_streamer::scheduled(size_t i) const {
  return params_.scheduled(plan_.chunk_first_seq(i), lines_per_chunk_);
}

}  // namespace eventide::bench

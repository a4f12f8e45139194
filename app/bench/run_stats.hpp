#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "app/bench/workload.hpp"

namespace eventide::bench {

using bench_clock = std::chrono::steady_clock;

/// What one connection did: filled in by its I/O thread, read after the run
/// (the atomics also by the progress line while it runs).
struct connection_result {
  std::atomic<uint64_t> lines_sent{0};
  std::atomic<uint64_t> lines_acked{0};
  uint64_t bytes_sent = 0;
  size_t chunks_sent = 0;
  bool closed_cleanly = false;  // TCP: EOF after our half-close
  std::atomic<bool> done{false};  // both directions finished
  bench_clock::time_point finished{};
  std::vector<int64_t> latency_ns;        // write -> ack covering it
  std::vector<int64_t> sched_latency_ns;  // scheduled send -> ack (paced)
  std::map<std::string, uint64_t, std::less<>> errors_by_code;
  uint64_t error_lines = 0;
  uint64_t unexpected_errors = 0;  // for a good line, wrong code, or twice
  uint64_t duplicates = 0;         // HTTP only
  uint64_t http_accepted = 0;      // HTTP only
  std::vector<std::string> faults;  // the first few failures, as text
  uint64_t fault_count = 0;         // protocol or connection failures

  connection_result() = default;
  connection_result(const connection_result&) = delete;
};

/// Records a protocol or connection failure, keeping the first few texts.
inline void add_fault(connection_result& result, std::string what) {
  if (result.fault_count++ < 10)
    result.faults.push_back(std::move(what));
}

/// Checks one error report against the plan and counts it.
class error_matcher {
public:
  error_matcher(const connection_plan& plan, connection_result& result)
    : plan_(plan), result_(result), seen_(plan.bad_lines.size(), 0) {
  }

  void on_error(uint64_t seq, std::string_view code) {
    ++result_.error_lines;
    auto it = result_.errors_by_code.find(code);
    if (it == result_.errors_by_code.end())
      it = result_.errors_by_code.emplace(std::string{code}, 0).first;
    ++it->second;
    const bad_line* bad = plan_.find_bad(seq);
    if (bad == nullptr || expected_code(bad->kind) != code) {
      ++result_.unexpected_errors;
      note_first_unexpected(seq, code);
      return;
    }
    auto& seen = seen_[static_cast<size_t>(bad - plan_.bad_lines.data())];
    if (seen != 0)  // the same line reported twice
      ++result_.unexpected_errors;
    seen = 1;
  }

private:
  void note_first_unexpected(uint64_t seq, std::string_view code) {
    if (noted_)
      return;
    noted_ = true;
    add_fault(result_, "unexpected error " + std::string{code} + " for seq "
                         + std::to_string(seq));
  }

  const connection_plan& plan_;
  connection_result& result_;
  std::vector<uint8_t> seen_;
  bool noted_ = false;
};

/// Shared knobs of a streaming run, derived from the options.
struct run_params {
  bench_clock::time_point start{};
  bench_clock::time_point deadline = bench_clock::time_point::max();
  double conn_rate = 0;      // events/s of one connection; 0 = unpaced
  double stagger_frac = 0;   // this connection's offset in the pacing period
  std::chrono::nanoseconds drain_timeout{};

  /// Scheduled send time of a chunk whose first line has `first_seq`.
  bench_clock::time_point scheduled(uint64_t first_seq,
                                    uint64_t lines_per_chunk) const {
    double period = lines_per_chunk / conn_rate;
    double at = (static_cast<double>(first_seq - 1) / conn_rate)
                + stagger_frac * period;
    return start + std::chrono::nanoseconds(static_cast<int64_t>(at * 1e9));
  }
};

}  // namespace eventide::bench

#pragma once

#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>

namespace eventide {

/// Upper bounds (µs) of the ack-latency buckets: /v1/stats and /metrics.
inline constexpr std::array<uint64_t, 14> latency_bounds_us{
  50,    100,   250,    500,    1000,   2500,   5000,
  10000, 25000, 50000, 100000, 250000, 500000, 1000000};

/// A copy of the histogram: counts per bucket (not cumulative; the last
/// one is above the largest bound), their number and sum.
struct latency_snapshot {
  std::array<uint64_t, latency_bounds_us.size() + 1> counts{};
  uint64_t count = 0;
  uint64_t sum_us = 0;
};

/// A fixed-bucket latency histogram that any thread may add to and read
/// without a lock (relaxed atomics: a reader may see a sample counted in a
/// bucket before it shows in `count`, which monitoring tolerates).
class latency_histogram {
public:
  void add(std::chrono::steady_clock::duration d) {
    auto us = static_cast<uint64_t>(
      std::chrono::duration_cast<std::chrono::microseconds>(d).count());
    std::size_t i = 0;
    while (i < latency_bounds_us.size() && us > latency_bounds_us[i])
      ++i;
    counts_[i].fetch_add(1, std::memory_order_relaxed);
    count_.fetch_add(1, std::memory_order_relaxed);
    sum_us_.fetch_add(us, std::memory_order_relaxed);
  }

  latency_snapshot snapshot() const {
    latency_snapshot s;
    for (std::size_t i = 0; i < counts_.size(); ++i)
      s.counts[i] = counts_[i].load(std::memory_order_relaxed);
    s.count = count_.load(std::memory_order_relaxed);
    s.sum_us = sum_us_.load(std::memory_order_relaxed);
    return s;
  }

private:
  std::array<std::atomic<uint64_t>, latency_bounds_us.size() + 1> counts_{};
  std::atomic<uint64_t> count_{0};
  std::atomic<uint64_t> sum_us_{0};
};

} // namespace eventide

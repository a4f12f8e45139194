#pragma once

#include <cstdint>
#include <vector>

namespace eventide::bench {

/// Percentiles of a set of latencies, in microseconds.
struct latency_summary {
  uint64_t count = 0;
  double mean_us = 0;
  double p50_us = 0;
  double p90_us = 0;
  double p99_us = 0;
  double p999_us = 0;
  double max_us = 0;
};

/// Exact percentiles (nearest rank) of the samples, given in nanoseconds.
/// There is one sample per write, so sorting them all is cheap.
latency_summary summarize_latency(std::vector<int64_t> samples_ns);

}  // namespace eventide::bench

#include "app/bench/latency.hpp"

#include <algorithm>
#include <cmath>

namespace eventide::bench {

namespace {

/// Nearest-rank percentile of sorted samples, in microseconds.
double percentile_us(const std::vector<int64_t>& sorted, double q) {
  auto rank = static_cast<size_t>(std::ceil(q * sorted.size()));
  size_t index = rank == 0 ? 0 : std::min(rank, sorted.size()) - 1;
  return static_cast<double>(sorted[index]) / 1e3;
}

}  // namespace

latency_summary summarize_latency(std::vector<int64_t> samples_ns) {
  latency_summary out;
  if (samples_ns.empty())
    return out;
  std::sort(samples_ns.begin(), samples_ns.end());
  double total = 0;
  for (auto s : samples_ns)
    total += static_cast<double>(s);
  out.count = samples_ns.size();
  out.mean_us = total / static_cast<double>(out.count) / 1e3;
  out.p50_us = percentile_us(samples_ns, 0.50);
  out.p90_us = percentile_us(samples_ns, 0.90);
  out.p99_us = percentile_us(samples_ns, 0.99);
  out.p999_us = percentile_us(samples_ns, 0.999);
  out.max_us = static_cast<double>(samples_ns.back()) / 1e3;
  return out;
}

}  // namespace eventide::bench

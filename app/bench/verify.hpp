#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "app/bench/key_reader.hpp"
#include "app/bench/options.hpp"
#include "app/bench/run_stats.hpp"
#include "app/bench/workload.hpp"

namespace eventide::bench {

/// The keys to read back and their counters before the run, so that a
/// repeated run against the same server still checks exact deltas.
struct verify_baseline {
  std::vector<uint32_t> keys;
  std::vector<int64_t> n_before;
  std::string error;  // non-empty: the baseline could not be read
};

/// Outcome of reading the sample back after the run.
struct verify_result {
  bool ran = false;
  uint64_t keys_checked = 0;
  uint64_t keys_matching = 0;
  uint64_t read_failures = 0;
  uint64_t incr_events_checked = 0;  // good incr events on the sample keys
  std::vector<std::string> examples;  // the first few mismatches

  bool pass() const {
    return ran && read_failures == 0 && keys_matching == keys_checked;
  }
};

/// Picks up to --verify-keys keys with any planned incr and reads their "n".
verify_baseline read_baseline(const bench_options& opts,
                              const std::vector<connection_plan>& plans,
                              key_reader& reader);

/// Reads the sample again; expects n_before + good incrs actually sent.
verify_result
verify_counters(const verify_baseline& baseline,
                const std::vector<connection_plan>& plans,
                const std::vector<std::unique_ptr<connection_result>>& results,
                key_reader& reader);

}  // namespace eventide::bench

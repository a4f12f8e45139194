#pragma once

#include <cstdint>
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "app/bench/latency.hpp"
#include "app/bench/options.hpp"
#include "app/bench/run_stats.hpp"
#include "app/bench/verify.hpp"
#include "app/bench/workload.hpp"

namespace eventide::bench {

/// Expected and reported error lines of one code.
struct code_count {
  std::string code;
  uint64_t expected = 0;
  uint64_t got = 0;
};

/// One connection's figures for the report.
struct connection_summary {
  uint64_t lines_sent = 0;
  uint64_t lines_acked = 0;
  uint64_t bytes_sent = 0;
  uint64_t error_lines = 0;
  uint64_t faults = 0;
  bool complete = false;  // final ack == lines sent (and clean close)
};

/// Every figure of a finished run, and the verdict.
struct run_summary {
  uint64_t events_planned = 0;
  uint64_t lines_sent = 0;
  uint64_t lines_acked = 0;
  uint64_t bytes_sent = 0;
  uint64_t bad_sent = 0;
  double generate_s = 0;
  double elapsed_s = 0;
  double events_per_s = 0;
  double mb_per_s = 0;
  latency_summary ack_latency;
  latency_summary sched_latency;  // paced runs only
  std::vector<code_count> errors;
  uint64_t error_lines = 0;
  uint64_t unexpected_errors = 0;
  uint64_t duplicates = 0;
  uint64_t faults = 0;
  std::vector<std::string> fault_texts;
  std::vector<connection_summary> connections;
  verify_result verify;
  std::string verify_error;  // the baseline could not be read
  bool stream_pass = false;
  bool pass = false;
};

/// Folds the per-connection results into the report figures and verdict.
run_summary
summarize_run(const bench_options& opts,
              const std::vector<connection_plan>& plans,
              const std::vector<std::unique_ptr<connection_result>>& results,
              bench_clock::time_point start, verify_result verify,
              std::string verify_error);

/// The human-readable report.
void print_text(std::FILE* out, const bench_options& opts,
                const run_summary& s);

/// One JSON object with every figure and the exact command line.
void print_json(std::FILE* out, const bench_options& opts,
                const run_summary& s);

}  // namespace eventide::bench

#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace eventide::bench {

/// Relative weights of the three ops in the generated stream.
struct op_mix {
  uint32_t set = 1;
  uint32_t incr = 1;
  uint32_t del = 0;
};

/// Everything eventide-bench was asked to do, validated.
struct bench_options {
  std::string host = "127.0.0.1";
  uint16_t port = 7070;
  uint16_t http_port = 8080;
  uint32_t connections = 4;
  uint32_t threads = 1;
  uint64_t events = 1000000;
  double duration_s = 0;  // 0 = no time limit
  double rate = 0;        // events/s over all connections; 0 = unpaced
  uint32_t keys = 100000;
  double zipf = 0;  // 0 = uniform
  uint32_t fields = 3;
  op_mix mix;
  double bad_ratio = 0;
  uint32_t lines_per_write = 100;
  bool http = false;
  uint32_t batch = 1000;
  bool verify = false;
  uint32_t verify_keys = 1000;
  uint64_t seed = 1;
  std::string run_id;
  bool json = false;
  bool quiet = false;
  std::string token;  // bearer token: TCP auth line, HTTP header

  double drain_timeout_s = 30;
  std::string command_line;  // the exact invocation, for the report
};

/// Parses and validates argv; prints help or errors itself. On nullopt the
/// process should exit with `exit_code`.
std::optional<bench_options> parse_options(int argc, char** argv,
                                           int& exit_code);

/// Lines one write (TCP) or one request (HTTP) carries.
inline uint32_t chunk_lines(const bench_options& opts) {
  return opts.http ? opts.batch : opts.lines_per_write;
}

}  // namespace eventide::bench

#include "app/bench/options.hpp"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <string_view>

#include <unistd.h>

#include <CLI/CLI.hpp>

namespace eventide::bench {

namespace {

/// Parses "set:incr:del" weights, e.g. "1:1:0".
std::optional<op_mix> parse_op_mix(std::string_view text) {
  uint32_t parts[3] = {0, 0, 0};
  for (int i = 0; i < 3; ++i) {
    auto colon = text.find(':');
    auto part = text.substr(0, colon);
    auto [ptr, ec] = std::from_chars(part.data(), part.data() + part.size(),
                                     parts[i]);
    if (ec != std::errc{} || ptr != part.data() + part.size() || part.empty())
      return std::nullopt;
    if ((i < 2) != (colon != std::string_view::npos))
      return std::nullopt;
    text.remove_prefix(i < 2 ? colon + 1 : text.size());
  }
  if (parts[0] + uint64_t{parts[1]} + parts[2] == 0)
    return std::nullopt;
  return op_mix{parts[0], parts[1], parts[2]};
}

/// A run id unique enough to stay clear of the server's dedup window.
std::string default_run_id() {
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(
              std::chrono::system_clock::now().time_since_epoch())
              .count();
  char buf[64];
  std::snprintf(buf, sizeof buf, "b%llx-%x",
                static_cast<unsigned long long>(ms),
                static_cast<unsigned>(getpid()));
  return buf;
}

/// Quotes an argument for the command-line echo when it needs it.
std::string shell_quote(std::string_view arg) {
  bool plain = !arg.empty();
  for (char c : arg)
    if (!(std::isalnum(static_cast<unsigned char>(c))
          || std::string_view{"-_./:=,@%+"}.find(c) != std::string_view::npos))
      plain = false;
  if (plain)
    return std::string{arg};
  std::string out = "'";
  for (char c : arg)
    out += c == '\'' ? std::string{"'\\''"} : std::string(1, c);
  return out + "'";
}

std::string join_command_line(int argc, char** argv) {
  std::string out;
  for (int i = 0; i < argc; ++i) {
    if (i > 0)
      out += ' ';
    out += shell_quote(argv[i]);
  }
  return out;
}

/// Checks what CLI11's validators cannot express; returns an error or "".
std::string check_combinations(const bench_options& o) {
  if (o.threads > o.connections)
    return "--threads must not exceed --connections";
  if (o.run_id.size() > 64)
    return "--run-id must be at most 64 bytes";
  for (char c : o.run_id)
    if (c == '"' || c == '\\' || static_cast<unsigned char>(c) < 0x20)
      return "--run-id must not contain quotes, backslashes or control "
             "characters";
  return {};
}

void add_target_options(CLI::App& app, bench_options& o) {
  app.add_option("--host", o.host, "server host")->capture_default_str();
  app.add_option("--port", o.port, "TCP ingest port")->capture_default_str();
  app.add_option("--http-port", o.http_port,
                 "HTTP port (for --http and --verify)")
    ->capture_default_str();
  app.add_option("--token", o.token,
                 "bearer token for a server with auth.token-file (TCP: "
                 "the auth line; HTTP and --verify: the header)");
  app.add_option("--connections", o.connections,
                 "concurrent connections")
    ->check(CLI::Range(1u, 4096u))
    ->capture_default_str();
  app.add_option("--threads", o.threads,
                 "I/O threads (each runs its share of the connections)")
    ->check(CLI::Range(1u, 64u))
    ->capture_default_str();
}

void add_load_options(CLI::App& app, bench_options& o) {
  app.add_option("--events", o.events, "events to send over all connections")
    ->check(CLI::Range(uint64_t{1}, uint64_t{4000000000}))
    ->capture_default_str();
  app.add_option("--duration", o.duration_s,
                 "stop sending after this many seconds (0 = no limit) or "
                 "when the events run out, whichever comes first; with "
                 "--rate and no --events, events = rate * duration")
    ->check(CLI::Range(0.0, 86400.0))
    ->capture_default_str();
  app.add_option("--rate", o.rate,
                 "events/s over all connections (0 = as fast as possible)")
    ->check(CLI::Range(0.0, 1e9))
    ->capture_default_str();
  app.add_option("--keys", o.keys, "key cardinality")
    ->check(CLI::Range(1u, 100000000u))
    ->capture_default_str();
  app.add_option("--zipf", o.zipf, "Zipf exponent of key popularity "
                                   "(0 = uniform)")
    ->check(CLI::Range(0.0, 10.0))
    ->capture_default_str();
  app.add_option("--fields", o.fields, "data members per event")
    ->check(CLI::Range(1u, 100u))
    ->capture_default_str();
  app.add_option("--bad-ratio", o.bad_ratio,
                 "share of bad lines (not JSON, missing key, unknown member, "
                 "incr with a string)")
    ->check(CLI::Range(0.0, 1.0))
    ->capture_default_str();
  app.add_option("--seed", o.seed, "random seed of the generator")
    ->capture_default_str();
  app.add_option("--run-id", o.run_id,
                 "prefix of event ids (default: derived from time and pid)");
}

void add_mode_options(CLI::App& app, bench_options& o) {
  app.add_option("--lines-per-write", o.lines_per_write,
                 "lines per TCP write (the unit of ack latency)")
    ->check(CLI::Range(1u, 1000000u))
    ->capture_default_str();
  app.add_flag("--http", o.http, "POST batches over HTTP instead of TCP");
  app.add_option("--batch", o.batch, "events per HTTP POST")
    ->check(CLI::Range(1u, 1000000u))
    ->capture_default_str();
  app.add_flag("--verify", o.verify,
               "read back a sample of keys over HTTP and check the counters");
  app.add_option("--verify-keys", o.verify_keys, "keys to read back")
    ->check(CLI::Range(1u, 10000000u))
    ->capture_default_str();
  app.add_option("--drain-timeout", o.drain_timeout_s,
                 "seconds to wait for the final acks after sending "
                 "(HTTP: for each answer)")
    ->check(CLI::Range(0.1, 3600.0))
    ->capture_default_str();
  app.add_flag("--json", o.json, "print one JSON object with the results");
  app.add_flag("--quiet", o.quiet, "no progress line and no text report");
}

}  // namespace

std::optional<bench_options> parse_options(int argc, char** argv,
                                           int& exit_code) {
  bench_options o;
  std::string mix_text = "1:1:0";
  CLI::App app{"eventide-bench: load generator for eventide "
               "(TCP NDJSON or HTTP)"};
  app.set_help_flag("-h,--help", "print this help and exit");
  add_target_options(app, o);
  add_load_options(app, o);
  app.add_option("--op-mix", mix_text, "weights set:incr:del")
    ->capture_default_str();
  add_mode_options(app, o);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    exit_code = app.exit(e) == 0 ? 0 : 2;  // --help is not a failure
    return std::nullopt;
  }
  exit_code = 2;
  auto mix = parse_op_mix(mix_text);
  if (!mix) {
    std::fprintf(stderr, "--op-mix: expected set:incr:del weights such as "
                         "1:1:0, got '%s'\n", mix_text.c_str());
    return std::nullopt;
  }
  o.mix = *mix;
  bool events_given = app.count("--events") > 0;
  if (o.duration_s > 0 && o.rate > 0 && !events_given)
    o.events = std::max<uint64_t>(
      1, static_cast<uint64_t>(std::ceil(o.rate * o.duration_s)));
  if (o.run_id.empty())
    o.run_id = default_run_id();
  if (auto err = check_combinations(o); !err.empty()) {
    std::fprintf(stderr, "%s\n", err.c_str());
    return std::nullopt;
  }
  o.command_line = join_command_line(argc, argv);
  exit_code = 0;
  return o;
}

}  // namespace eventide::bench

// eventide-bench: a load generator and correctness check for eventide.
//
// Every connection's lines are generated before the clock starts; the run
// then only writes pre-built chunks (TCP: --lines-per-write lines per
// write; HTTP: --batch lines per POST) and reads acks, on --threads I/O
// threads with one single-threaded io_context each. Ack latency is measured
// per chunk from its write to the ack covering its last line, and in paced
// runs also from its scheduled send time, so a stalled generator cannot
// hide latency (coordinated omission).

#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <exception>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>

#include "app/bench/http_connection.hpp"
#include "app/bench/key_reader.hpp"
#include "app/bench/options.hpp"
#include "app/bench/report.hpp"
#include "app/bench/run_stats.hpp"
#include "app/bench/tcp_connection.hpp"
#include "app/bench/verify.hpp"
#include "app/bench/workload.hpp"

namespace eventide::bench {
namespace {

namespace asio = boost::asio;
using asio::ip::tcp;

/// Prints a status line on stderr unless --quiet.
template <class... Args>
void say(const bench_options& opts, const char* fmt, Args... args) {
  if (opts.quiet)
    return;
  std::fprintf(stderr, fmt, args...);
}

std::optional<tcp::endpoint> resolve(const std::string& host, uint16_t port) {
  asio::io_context ioc;
  tcp::resolver resolver{ioc};
  boost::system::error_code ec;
  auto results = resolver.resolve(host, std::to_string(port), ec);
  if (ec || results.empty()) {
    std::fprintf(stderr, "cannot resolve %s: %s\n", host.c_str(),
                 ec ? ec.message().c_str() : "no address");
    return std::nullopt;
  }
  return results.begin()->endpoint();
}

/// The connections of a run, their I/O contexts and their results.
class load_run {
public:
  load_run(const bench_options& opts, std::vector<connection_plan>& plans)
    : opts_(opts), plans_(plans) {
    for (uint32_t t = 0; t < opts.threads; ++t)
      ioc_.push_back(std::make_unique<asio::io_context>(1));
    for (size_t c = 0; c < plans.size(); ++c)
      results_.push_back(std::make_unique<connection_result>());
  }

  /// Opens every connection; false (after a message) when one fails.
  bool connect(const tcp::endpoint& endpoint) {
    for (size_t c = 0; c < plans_.size(); ++c) {
      auto& ioc = *ioc_[c % ioc_.size()];
      auto ec = opts_.http ? add<http_connection>(ioc, c, endpoint)
                           : add<tcp_connection>(ioc, c, endpoint);
      if (ec) {
        std::fprintf(stderr, "cannot connect to %s:%u: %s\n",
                     endpoint.address().to_string().c_str(),
                     endpoint.port(), ec.message().c_str());
        return false;
      }
    }
    return true;
  }

  /// Streams everything; returns the start time of the clock.
  bench_clock::time_point run() {
    auto start = bench_clock::now();
    for (size_t c = 0; c < streams_.size(); ++c)
      streams_[c]->start(params_for(c, start));
    std::vector<std::thread> threads;
    for (auto& ioc : ioc_)
      threads.emplace_back([&ioc] { ioc->run(); });
    show_progress(start);
    for (auto& t : threads)
      t.join();
    return start;
  }

  const std::vector<std::unique_ptr<connection_result>>& results() const {
    return results_;
  }

private:
  template <class Connection>
  boost::system::error_code add(asio::io_context& ioc, size_t c,
                                const tcp::endpoint& endpoint) {
    std::unique_ptr<Connection> conn;
    if constexpr (std::is_same_v<Connection, http_connection>)
      conn = std::make_unique<Connection>(ioc, plans_[c], *results_[c],
                                          chunk_lines(opts_), opts_.host);
    else
      conn = std::make_unique<Connection>(ioc, plans_[c], *results_[c],
                                          chunk_lines(opts_));
    auto ec = conn->connect(endpoint, opts_.token);
    streams_.push_back(std::move(conn));
    return ec;
  }

  run_params params_for(size_t c, bench_clock::time_point start) const {
    run_params p;
    p.start = start;
    if (opts_.duration_s > 0)
      p.deadline = start + std::chrono::nanoseconds(
                     static_cast<int64_t>(opts_.duration_s * 1e9));
    p.conn_rate = opts_.rate / opts_.connections;
    p.stagger_frac = static_cast<double>(c) / opts_.connections;
    p.drain_timeout = std::chrono::nanoseconds(
      static_cast<int64_t>(opts_.drain_timeout_s * 1e9));
    return p;
  }

  bool all_done() const {
    for (const auto& r : results_)
      if (!r->done.load())
        return false;
    return true;
  }

  /// Refreshes a progress line on a terminal about twice a second.
  void show_progress(bench_clock::time_point start) {
    bool live = !opts_.quiet && isatty(STDERR_FILENO);
    uint64_t last_sent = 0;
    auto last_at = start;
    while (!all_done()) {
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
      auto now = bench_clock::now();
      if (!live || now - last_at < std::chrono::milliseconds(500))
        continue;
      uint64_t sent = 0, acked = 0;
      for (const auto& r : results_) {
        sent += r->lines_sent.load(std::memory_order_relaxed);
        acked += r->lines_acked.load(std::memory_order_relaxed);
      }
      double dt = std::chrono::duration<double>(now - last_at).count();
      std::fprintf(stderr, "\r\033[K%6.1f s  sent %llu  acked %llu  %.0f "
                           "events/s",
                   std::chrono::duration<double>(now - start).count(),
                   static_cast<unsigned long long>(sent),
                   static_cast<unsigned long long>(acked),
                   static_cast<double>(sent - last_sent) / dt);
      last_sent = sent;
      last_at = now;
    }
    if (live)
      std::fprintf(stderr, "\r\033[K");
  }

  const bench_options& opts_;
  std::vector<connection_plan>& plans_;
  std::vector<std::unique_ptr<asio::io_context>> ioc_;
  std::vector<std::unique_ptr<connection_result>> results_;
  std::vector<std::unique_ptr<chunk_streamer>> streams_;
};

std::vector<connection_plan> generate(const bench_options& opts,
                                      double& seconds) {
  auto t0 = bench_clock::now();
  auto plans = generate_plans(opts);
  seconds = std::chrono::duration<double>(bench_clock::now() - t0).count();
  uint64_t bytes = 0;
  for (const auto& p : plans)
    bytes += p.bytes.size();
  say(opts, "generated %llu events (%.1f MB) in %.2f s; run-id %s\n",
      static_cast<unsigned long long>(opts.events),
      static_cast<double>(bytes) / 1e6, seconds, opts.run_id.c_str());
  return plans;
}

int run(const bench_options& opts) {
  auto ingest = resolve(opts.host, opts.http ? opts.http_port : opts.port);
  auto http = resolve(opts.host, opts.http_port);
  if (!ingest || !http)
    return 2;
  double generate_s = 0;
  auto plans = generate(opts, generate_s);
  key_reader reader{*http, opts.host, std::chrono::seconds(10)};
  reader.set_token(opts.token);
  verify_baseline baseline;
  if (opts.verify) {
    baseline = read_baseline(opts, plans, reader);
    if (!baseline.error.empty()) {
      std::fprintf(stderr, "verify: cannot read the baseline: %s\n",
                   baseline.error.c_str());
      return 2;
    }
  }
  load_run load{opts, plans};
  if (!load.connect(*ingest))
    return 2;
  auto start = load.run();
  verify_result verified;
  if (opts.verify)
    verified = verify_counters(baseline, plans, load.results(), reader);
  auto summary = summarize_run(opts, plans, load.results(), start,
                               std::move(verified), {});
  summary.generate_s = generate_s;
  if (!opts.quiet)
    print_text(opts.json ? stderr : stdout, opts, summary);
  if (opts.json)
    print_json(stdout, opts, summary);
  return summary.pass ? 0 : 1;
}

}  // namespace
}  // namespace eventide::bench

int main(int argc, char** argv) {
  try {
    int exit_code = 0;
    auto opts = eventide::bench::parse_options(argc, argv, exit_code);
    if (!opts)
      return exit_code;
    return eventide::bench::run(*opts);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "eventide-bench: %s\n", e.what());
    return 2;
  } catch (...) {
    std::fprintf(stderr, "eventide-bench: unknown failure\n");
    return 2;
  }
}

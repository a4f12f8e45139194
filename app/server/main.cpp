// eventide: the server. Parses the options, starts the actor engine and the
// network front ends, and drives a graceful shutdown on SIGTERM/SIGINT:
// stop accepting, finish and acknowledge what was read, stop the actors.
#include <sys/stat.h>

#include <cstdio>
#include <iostream>
#include <thread>

#include <boost/asio.hpp>
#include <caf/all.hpp>
#include <caf/io/all.hpp>
#include <caf/openssl/all.hpp>
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

#include "app/auth.hpp"
#include "app/config.hpp"
#include "app/engine.hpp"
#include "app/http_api.hpp"
#include "app/tcp_ingest.hpp"
#include "messages/messages.hpp"

namespace asio = boost::asio;
using tcp = asio::ip::tcp;

namespace {

void setup_logging(const eventide::server_options& opts) {
  auto logger = spdlog::stderr_logger_mt("eventide");
  if (opts.log_format == "json")
    logger->set_pattern(R"({"ts":"%Y-%m-%dT%H:%M:%S.%e%z","level":"%l","msg":"%v"})");
  else
    logger->set_pattern("%Y-%m-%dT%H:%M:%S.%e%z %l %v");
  logger->set_level(spdlog::level::from_str(opts.log_level));
  logger->flush_on(spdlog::level::trace);
  spdlog::set_default_logger(logger);
}

/// Resolves a validated host:port into an endpoint to bind.
tcp::endpoint resolve(asio::io_context& ioc, const std::string& text) {
  auto addr = eventide::parse_listen_address(text);
  tcp::resolver resolver{ioc};
  auto results = resolver.resolve(addr->host, std::to_string(addr->port),
                                  tcp::resolver::passive);
  return results.begin()->endpoint();
}

std::string to_text(const tcp::endpoint& ep) {
  auto addr = ep.address();
  auto host = addr.is_v6() ? "[" + addr.to_string() + "]" : addr.to_string();
  return host + ":" + std::to_string(ep.port());
}

uint32_t or_cores(uint32_t n) {
  if (n != 0)
    return n;
  return std::max(1u, std::thread::hardware_concurrency());
}

eventide::engine_config engine_config_of(const eventide::server_options& o) {
  eventide::engine_config cfg;
  cfg.parsers = or_cores(o.engine_parsers);
  cfg.shards = o.engine_shards;
  cfg.limits.max_event_bytes = o.limits_max_event_bytes;
  cfg.limits.max_depth = o.limits_max_depth;
  cfg.dedup_window = o.dedup_window;
  cfg.slow_batch = std::chrono::milliseconds(o.log_slow_batch_ms);
  cfg.node_name = o.cluster_node_name;
  cfg.durable = o.storage_mode == "disk";
  cfg.storage.dir = o.storage_data_dir;
  cfg.storage.policy = o.storage_fsync == "always" ? eventide::fsync_policy::always
                       : o.storage_fsync == "none" ? eventide::fsync_policy::none
                                                   : eventide::fsync_policy::batch;
  cfg.storage.interval = std::chrono::milliseconds(o.storage_fsync_interval_ms);
  cfg.storage.segment_bytes = o.storage_segment_bytes;
  cfg.storage.snapshot_bytes = o.storage_snapshot_bytes;
  cfg.cluster_name = o.cluster_name;
  cfg.cluster_host = o.cluster_host;
  cfg.cluster_port = o.cluster_port;
  cfg.cluster_seeds = o.cluster_seeds;
  cfg.cluster_tls = !o.cluster_tls_certificate.empty();
  return cfg;
}

/// Loads auth.token-file (nullptr when none is configured); a bad file is a
/// start-up error, a file others may read a warning.
std::shared_ptr<eventide::authenticator>
load_tokens(const eventide::server_options& opts, std::string& error) {
  if (opts.auth_token_file.empty())
    return nullptr;
  auto loaded = eventide::token_set::load(opts.auth_token_file);
  if (auto* err = std::get_if<std::string>(&loaded)) {
    error = "auth.token-file: " + *err;
    return nullptr;
  }
  struct stat st {};
  if (::stat(opts.auth_token_file.c_str(), &st) == 0
      && (st.st_mode & (S_IRGRP | S_IROTH)) != 0)
    spdlog::warn("auth.token-file {} is readable by group or others (mode "
                 "{:04o}); restrict it with chmod 600",
                 opts.auth_token_file, st.st_mode & 07777);
  auto& tokens = std::get<eventide::token_set>(loaded);
  spdlog::info("authentication on: {} tokens from {}", tokens.size(),
               opts.auth_token_file);
  return std::make_shared<eventide::authenticator>(std::move(tokens));
}

/// Safe defaults: a listener reachable from other hosts needs tokens, or
/// the operator's explicit auth.allow-insecure=true. Returns the refusal.
std::string check_exposure(const eventide::server_options& opts,
                           const tcp::endpoint& ingest_ep,
                           const tcp::endpoint& http_ep) {
  std::string exposed;
  auto note = [&](const char* option, const tcp::endpoint& ep) {
    if (ep.address().is_loopback())
      return;
    if (!exposed.empty())
      exposed += ", ";
    exposed += std::string{option} + "=" + to_text(ep);
  };
  note("ingest.listen", ingest_ep);
  note("http.listen", http_ep);
  if (opts.cluster_port != 0) {
    // Node-to-node traffic is neither authenticated nor encrypted yet:
    // only loopback, unless the operator accepts that explicitly.
    boost::system::error_code ec;
    auto addr = asio::ip::make_address(opts.cluster_host, ec);
    bool verified = !opts.cluster_tls_ca_file.empty();
    if ((ec || !addr.is_loopback()) && !verified) {
      if (!opts.auth_allow_insecure)
        return "refusing to publish the cluster port on a non-loopback "
               "address (cluster.host="
               + opts.cluster_host
               + "): node-to-node traffic is not authenticated; set "
                 "cluster.tls-certificate, cluster.tls-key and "
                 "cluster.tls-ca-file, or set auth.allow-insecure=true to "
                 "accept the risk on a private network";
      spdlog::warn("cluster.host={} is not loopback: node-to-node traffic "
                   "is not authenticated or encrypted",
                   opts.cluster_host);
    }
  }
  if (exposed.empty() || !opts.auth_token_file.empty())
    return {};
  if (opts.auth_allow_insecure) {
    spdlog::warn("listening on a non-loopback address ({}) without "
                 "authentication because auth.allow-insecure=true: anyone "
                 "who can reach it can read and write every key",
                 exposed);
    return {};
  }
  return "refusing to listen on a non-loopback address (" + exposed
         + ") without authentication: set auth.token-file (see README "
           "\"Security\"), bind 127.0.0.1, or set auth.allow-insecure=true "
           "to accept the risk";
}

/// Warns at most once per interval about refused requests (never per
/// request: DESIGN.md §8).
void arm_auth_summary(asio::steady_timer& timer,
                      const std::shared_ptr<eventide::authenticator>& auth,
                      eventide::auth_stats before) {
  constexpr int interval_s = 60;
  timer.expires_after(std::chrono::seconds(interval_s));
  timer.async_wait([&timer, auth, before](const boost::system::error_code& ec) {
    if (ec)
      return;
    auto now = auth->stats();
    auto line = eventide::auth_summary(now, before, interval_s);
    if (!line.empty())
      spdlog::warn("{}", line);
    arm_auth_summary(timer, auth, now);
  });
}

int run(const eventide::server_options& opts) {
  // Declared first so it is destroyed last: session actors can still hold
  // the front ends' connection objects (through their result callbacks)
  // until the actor system has finished them, and those objects' sockets
  // and timers need the io_context's services to exist when they die.
  asio::io_context ioc;
  std::string auth_error;
  auto auth = load_tokens(opts, auth_error);
  if (!auth_error.empty()) {
    spdlog::error("{}", auth_error);
    return 2;
  }
  try {
    auto exposure = check_exposure(opts, resolve(ioc, opts.ingest_listen),
                                   resolve(ioc, opts.http_listen));
    if (!exposure.empty()) {
      spdlog::error("{}", exposure);
      return 2;
    }
  } catch (const std::exception& e) {
    spdlog::error("cannot listen: {}", e.what());
    return 1;
  }
  caf::actor_system_config cfg;
  eventide::register_message_types(cfg);
  cfg.set("scheduler.max-threads", or_cores(opts.engine_threads));
  if (opts.cluster_port != 0) {
    cfg.load<caf::io::middleman>();
    // Without heartbeats a frozen or cut-off peer is never noticed
    // (caf-0.17-notes §3).
    cfg.set("middleman.heartbeat-interval",
            caf::timespan{std::chrono::milliseconds(opts.cluster_heartbeat_ms)});
    cfg.set("middleman.connection-timeout",
            caf::timespan{std::chrono::milliseconds(opts.cluster_timeout_ms)});
    if (!opts.cluster_tls_certificate.empty()) {
      cfg.load<caf::openssl::manager>();
      cfg.openssl_certificate = opts.cluster_tls_certificate;
      cfg.openssl_key = opts.cluster_tls_key;
      cfg.openssl_cafile = opts.cluster_tls_ca_file;
    }
  }
  caf::actor_system sys{cfg};
  // The node actor may ask the server to stop (it left the cluster, or the
  // cluster refused it); it runs on an actor thread, so it posts.
  int exit_code = 0;
  std::function<void(const std::string&)> begin_stop;
  auto ecfg = engine_config_of(opts);
  ecfg.on_refused = [&ioc, &begin_stop, &exit_code](std::string why) {
    asio::post(ioc, [&, why] {
      exit_code = 2;
      if (begin_stop)
        begin_stop("the cluster refused this node: " + why);
    });
  };
  ecfg.on_left = [&ioc, &begin_stop] {
    asio::post(ioc, [&] {
      if (begin_stop)
        begin_stop("left the cluster");
    });
  };
  std::unique_ptr<eventide::engine> engine_ptr;
  try {
    engine_ptr = std::make_unique<eventide::engine>(sys, ecfg);
  } catch (const std::exception& e) {
    spdlog::error("{}", e.what());
    return 2;
  }
  auto& engine = *engine_ptr;

  std::unique_ptr<eventide::tcp_ingest> ingest;
  std::unique_ptr<eventide::http_api> http;
  try {
    eventide::ingest_options tcp_opts;
    tcp_opts.max_inflight = opts.ingest_max_inflight;
    tcp_opts.max_event_bytes = opts.limits_max_event_bytes;
    tcp_opts.max_connections = opts.limits_max_connections;
    tcp_opts.idle_timeout
      = std::chrono::milliseconds{opts.limits_idle_timeout_ms};
    tcp_opts.auth = auth;
    ingest = std::make_unique<eventide::tcp_ingest>(
      ioc, resolve(ioc, opts.ingest_listen), engine, tcp_opts);
    eventide::http_options http_opts;
    http_opts.max_body = opts.http_max_body;
    http_opts.max_event_bytes = opts.limits_max_event_bytes;
    http_opts.auth = auth;
    http_opts.max_header_bytes = opts.http_max_header_bytes;
    http_opts.max_connections = opts.limits_max_connections;
    http_opts.idle_timeout = tcp_opts.idle_timeout;
    http_opts.header_timeout
      = std::chrono::milliseconds{opts.limits_header_timeout_ms};
    http_opts.ingest_counters = [tcp = ingest.get()] { return tcp->stats(); };
    http = std::make_unique<eventide::http_api>(
      ioc, resolve(ioc, opts.http_listen), engine, std::move(http_opts));
  } catch (const std::exception& e) {
    spdlog::error("cannot listen: {}", e.what());
    engine.stop();
    return 1;
  }
  ingest->start();
  http->start();
  engine.add_listener("tcp-listener", to_text(ingest->local_endpoint()),
                      [tcp = ingest.get()] {
                        auto s = tcp->stats();
                        return eventide::listener_counts{
                          s.connections_accepted, s.connections_open};
                      });
  engine.add_listener("http-listener", to_text(http->local_endpoint()),
                      [api = http.get()] {
                        auto s = api->stats();
                        return eventide::listener_counts{
                          s.connections_accepted, s.connections_open};
                      });

  auto work = asio::make_work_guard(ioc);
  asio::steady_timer auth_summary{ioc};
  if (auth)
    arm_auth_summary(auth_summary, auth, auth->stats());
  asio::signal_set signals{ioc, SIGINT, SIGTERM};
  bool stopping = false;
  begin_stop = [&](const std::string& why) {
    if (stopping)
      return;
    stopping = true;
    signals.cancel();
    spdlog::info("{}: draining connections", why);
    auth_summary.cancel();
    auto remaining = std::make_shared<int>(2);
    auto one_done = [&, remaining] {
      if (--*remaining == 0)
        work.reset(), ioc.stop();
    };
    ingest->shutdown(one_done);
    http->shutdown(one_done);
  };
  signals.async_wait([&](const boost::system::error_code& ec, int sig) {
    if (ec)
      return;
    begin_stop("signal " + std::to_string(sig) + " received");
  });
  // Why here: tests and scripts send SIGTERM as soon as they read this
  // line, so it comes only once the signal is handled.
  if (engine.cluster_address().empty())
    spdlog::info("listening ingest={} http={}",
                 to_text(ingest->local_endpoint()),
                 to_text(http->local_endpoint()));
  else
    spdlog::info("listening ingest={} http={} cluster={}",
                 to_text(ingest->local_endpoint()),
                 to_text(http->local_endpoint()), engine.cluster_address());

  std::vector<std::thread> io_threads;
  for (uint32_t i = 1; i < opts.engine_io_threads; ++i)
    io_threads.emplace_back([&] { ioc.run(); });
  ioc.run();
  for (auto& t : io_threads)
    t.join();
  engine.remove_listeners(); // their probes read the front ends' counters
  ingest.reset();
  http.reset();
  engine.stop();
  begin_stop = nullptr;
  sys.await_all_actors_done();
  spdlog::info("stopped");
  return exit_code;
}

} // namespace

int main(int argc, char** argv) {
  auto parsed = eventide::parse_command_line(argc, argv);
  if (!parsed.options) {
    (parsed.exit_code == 0 ? std::cout : std::cerr) << parsed.message;
    return parsed.exit_code;
  }
  auto& opts = *parsed.options;
  setup_logging(opts);
  spdlog::info("eventide {} starting: {}", EVENTIDE_VERSION,
               eventide::describe(opts));
  try {
    return run(opts);
  } catch (const std::exception& e) {
    spdlog::critical("fatal: {}", e.what());
    return 1;
  }
}

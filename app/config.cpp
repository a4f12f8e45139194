#include "app/config.hpp"

#include <unistd.h>

#include <fstream>
#include <set>
#include <sstream>
#include <utility>

#include <CLI/CLI.hpp>

namespace eventide {

namespace {

/// One `--key=value` token taken from the config file, with its origin.
struct file_setting {
  std::string key;
  std::string value;
  int line = 0;
};

std::string trim(std::string_view s) {
  auto b = s.find_first_not_of(" \t\r\n");
  if (b == std::string_view::npos)
    return {};
  auto e = s.find_last_not_of(" \t\r\n");
  return std::string{s.substr(b, e - b + 1)};
}

/// Drops an inline comment (` ;` or ` #` outside quotes).
std::string strip_comment(const std::string& s) {
  bool quoted = false;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '"')
      quoted = !quoted;
    else if (!quoted && (s[i] == ';' || s[i] == '#')
             && (i == 0 || s[i - 1] == ' ' || s[i - 1] == '\t'))
      return s.substr(0, i);
  }
  return s;
}

/// `"text"` -> `text`; `["a", "b"]` -> `a,b`; anything else unchanged.
std::string unquote(std::string v) {
  if (v.size() >= 2 && v.front() == '[' && v.back() == ']') {
    std::string out;
    std::stringstream items{v.substr(1, v.size() - 2)};
    for (std::string item; std::getline(items, item, ',');) {
      if (!out.empty())
        out += ',';
      out += unquote(trim(item));
    }
    return out;
  }
  if (v.size() >= 2 && v.front() == '"' && v.back() == '"')
    return v.substr(1, v.size() - 2);
  return v;
}

/// Reads an INI file: `[section]` headers, `key = value` lines, `#`/`;`
/// comments. Returns an error message naming file and line, or empty.
std::string read_ini(const std::string& path, std::vector<file_setting>& out) {
  std::ifstream in{path};
  if (!in)
    return "cannot read config file '" + path + "'";
  std::string section;
  int line_no = 0;
  for (std::string raw; std::getline(in, raw);) {
    ++line_no;
    auto line = trim(strip_comment(raw));
    if (line.empty())
      continue;
    auto where = path + ":" + std::to_string(line_no) + ": ";
    if (line.front() == '[') {
      if (line.back() != ']')
        return where + "malformed section header";
      section = trim(line.substr(1, line.size() - 2));
      continue;
    }
    auto eq = line.find('=');
    if (eq == std::string::npos)
      return where + "expected 'key = value'";
    if (section.empty())
      return where + "'" + trim(line.substr(0, eq))
             + "' is outside a [section]";
    out.push_back({section + "." + trim(line.substr(0, eq)),
                   unquote(trim(line.substr(eq + 1))), line_no});
  }
  return {};
}

std::string host_name() {
  char buf[256] = {};
  if (gethostname(buf, sizeof(buf) - 1) != 0)
    return "eventide";
  return buf;
}

CLI::Validator listen_validator() {
  return CLI::Validator(
    [](std::string& v) -> std::string {
      if (parse_listen_address(v))
        return {};
      return "expected host:port, got '" + v + "'";
    },
    "HOST:PORT");
}

/// Declares every option once: name, default, help, checks.
void declare_options(CLI::App& app, server_options& o) {
  auto add = [&](const std::string& name, auto& member, std::string help) {
    return app.add_option("--" + name, member, std::move(help))
      ->capture_default_str();
  };
  add("ingest.listen", o.ingest_listen, "TCP NDJSON listener (port 0 = any)")
    ->check(listen_validator());
  add("ingest.max-inflight", o.ingest_max_inflight,
      "unacknowledged events per connection before it stops reading")
    ->check(CLI::Range(uint64_t{1}, uint64_t{1} << 24));
  add("http.listen", o.http_listen, "HTTP API (port 0 = any)")
    ->check(listen_validator());
  add("http.max-body", o.http_max_body, "largest request body in bytes")
    ->check(CLI::Range(uint64_t{1}, uint64_t{1} << 30));
  add("http.max-header-bytes", o.http_max_header_bytes,
      "largest request header in bytes (431 above it)")
    ->check(CLI::Range(uint64_t{1024}, uint64_t{1} << 20));
  add("engine.parsers", o.engine_parsers, "parse actors; 0 = one per core")
    ->check(CLI::Range(0u, 256u));
  add("engine.shards", o.engine_shards,
      "shard actors (fixed for the life of a data dir or cluster)")
    ->check(CLI::Range(1u, 65536u));
  add("engine.threads", o.engine_threads,
      "actor scheduler threads; 0 = one per core")
    ->check(CLI::Range(0u, 256u));
  add("engine.io-threads", o.engine_io_threads, "network I/O threads")
    ->check(CLI::Range(1u, 64u));
  add("limits.max-event-bytes", o.limits_max_event_bytes,
      "longest event line in bytes")
    ->check(CLI::Range(uint64_t{16}, uint64_t{1} << 24));
  add("limits.max-depth", o.limits_max_depth, "deepest JSON nesting")
    ->check(CLI::Range(2u, 1000u));
  add("limits.max-connections", o.limits_max_connections,
      "open connections per listener (TCP, HTTP); more are refused")
    ->check(CLI::Range(1u, 1000000u));
  add("limits.idle-timeout-ms", o.limits_idle_timeout_ms,
      "close a connection idle this long (TCP ingest, HTTP keep-alive)")
    ->check(CLI::Range(100u, 86400000u));
  add("limits.header-timeout-ms", o.limits_header_timeout_ms,
      "an HTTP request header must arrive within this time")
    ->check(CLI::Range(100u, 3600000u));
  add("dedup.window", o.dedup_window,
      "event ids remembered per node for de-duplication (0 = off)")
    ->check(CLI::Range(uint64_t{0}, uint64_t{1} << 28));
  add("storage.mode", o.storage_mode, "disk or memory")
    ->check(CLI::IsMember({"disk", "memory"}));
  add("storage.data-dir", o.storage_data_dir, "where shards keep their data");
  add("storage.fsync", o.storage_fsync, "always, batch or none")
    ->check(CLI::IsMember({"always", "batch", "none"}));
  add("storage.fsync-interval-ms", o.storage_fsync_interval_ms,
      "fsync=batch: longest wait of an ack for the shared fsync")
    ->check(CLI::Range(1u, 1000u));
  add("storage.segment-bytes", o.storage_segment_bytes,
      "size at which a WAL segment is closed and a new one begun")
    ->check(CLI::Range(uint64_t{1} << 16, uint64_t{1} << 34));
  add("storage.snapshot-bytes", o.storage_snapshot_bytes,
      "WAL bytes written between two rounds of shard snapshots")
    ->check(CLI::Range(uint64_t{1} << 16, uint64_t{1} << 40));
  add("log.level", o.log_level, "trace, debug, info, warn, error or off")
    ->check(
      CLI::IsMember({"trace", "debug", "info", "warn", "error", "off"}));
  add("log.format", o.log_format, "text or json")
    ->check(CLI::IsMember({"text", "json"}));
  add("log.slow-batch-ms", o.log_slow_batch_ms,
      "warn when a shard spends longer than this on one batch")
    ->check(CLI::Range(1u, 3600000u));
  add("cluster.name", o.cluster_name,
      "name of the cluster; nodes of another name are refused");
  add("cluster.host", o.cluster_host,
      "address the node actor binds and other nodes reach it at");
  add("cluster.port", o.cluster_port, "CAF node port; 0 = standalone")
    ->check(CLI::Range(0, 65535));
  add("cluster.heartbeat-ms", o.cluster_heartbeat_ms,
      "interval of CAF's heartbeats between nodes")
    ->check(CLI::Range(50u, 60000u));
  add("cluster.timeout-ms", o.cluster_timeout_ms,
      "a node silent this long is unreachable")
    ->check(CLI::Range(100u, 600000u));
  add("cluster.tls-certificate", o.cluster_tls_certificate,
      "PEM certificate of this node: node-to-node traffic over TLS");
  add("cluster.tls-key", o.cluster_tls_key,
      "PEM private key of cluster.tls-certificate");
  add("cluster.tls-ca-file", o.cluster_tls_ca_file,
      "PEM CA certificate; peers must present a certificate it signed");
  app.add_option("--cluster.seeds", o.cluster_seeds,
                 "host:port of nodes to join, comma-separated")
    ->delimiter(',');
  add("cluster.node-name", o.cluster_node_name,
      "stable name of this node (default: the host name)");
  add("auth.token-file", o.auth_token_file,
      "file of bearer tokens ('SCOPES TOKEN' lines); empty = no "
      "authentication");
  add("auth.allow-insecure", o.auth_allow_insecure,
      "allow non-loopback listeners without auth.token-file (true/false)");
}

/// Keys given on the command line (`--a.b=v` or `--a.b v`).
std::set<std::string> command_line_keys(int argc, const char* const* argv) {
  std::set<std::string> keys;
  for (int i = 1; i < argc; ++i) {
    std::string_view a{argv[i]};
    if (a.rfind("--", 0) != 0)
      continue;
    a.remove_prefix(2);
    keys.emplace(a.substr(0, a.find('=')));
  }
  return keys;
}

/// Finds `--config PATH` / `--config=PATH`; removes it from `args`.
std::optional<std::string> take_config_path(std::vector<std::string>& args,
                                            std::string& error) {
  for (size_t i = 1; i < args.size(); ++i) {
    if (args[i] == "--config") {
      if (i + 1 >= args.size()) {
        error = "--config needs a path";
        return std::nullopt;
      }
      auto path = args[i + 1];
      args.erase(args.begin() + static_cast<long>(i),
                 args.begin() + static_cast<long>(i) + 2);
      return path;
    }
    if (args[i].rfind("--config=", 0) == 0) {
      auto path = args[i].substr(9);
      args.erase(args.begin() + static_cast<long>(i));
      return path;
    }
  }
  return std::nullopt;
}

/// Runs CLI11 over `args`; returns the message of a failure or help.
std::optional<parse_outcome> run_parser(CLI::App& app,
                                        std::vector<std::string> args,
                                        const std::string& context) {
  std::reverse(args.begin(), args.end());
  args.pop_back(); // the program name
  try {
    app.parse(args);
  } catch (const CLI::ParseError& e) {
    std::ostringstream out, err;
    auto code = app.exit(e, out, err);
    parse_outcome res;
    res.exit_code = code == 0 ? 0 : 2;
    res.message = code == 0 ? out.str() : context + err.str();
    return res;
  }
  return std::nullopt;
}

std::string check_semantics(const server_options& o) {
  if (o.cluster_port == 0 && !o.cluster_seeds.empty())
    return "cluster.seeds needs cluster.port: a node joins a cluster through "
           "its own published port";
  for (auto& seed : o.cluster_seeds)
    if (!parse_listen_address(seed))
      return "cluster.seeds: expected host:port, got '" + seed + "'";
  if (o.cluster_port != 0 && o.cluster_timeout_ms <= o.cluster_heartbeat_ms)
    return "cluster.timeout-ms must be longer than cluster.heartbeat-ms";
  if (o.cluster_name.empty())
    return "cluster.name must not be empty";
  if (o.cluster_tls_certificate.empty() != o.cluster_tls_key.empty())
    return "cluster.tls-certificate and cluster.tls-key go together";
  if (!o.cluster_tls_ca_file.empty() && o.cluster_tls_certificate.empty())
    return "cluster.tls-ca-file needs cluster.tls-certificate and "
           "cluster.tls-key";
  for (auto* path : {&o.cluster_tls_certificate, &o.cluster_tls_key,
                     &o.cluster_tls_ca_file})
    if (!path->empty() && ::access(path->c_str(), R_OK) != 0)
      return "cannot read " + *path + " (cluster TLS)";
  return {};
}

} // namespace

std::optional<listen_address> parse_listen_address(const std::string& text) {
  auto colon = text.rfind(':');
  if (colon == std::string::npos || colon == 0 || colon + 1 == text.size())
    return std::nullopt;
  auto host = text.substr(0, colon);
  if (host.front() == '[') {
    if (host.back() != ']' || host.size() < 3)
      return std::nullopt;
    host = host.substr(1, host.size() - 2);
  } else if (host.find(':') != std::string::npos) {
    return std::nullopt; // IPv6 needs brackets
  }
  auto port_text = text.substr(colon + 1);
  if (port_text.size() > 5
      || port_text.find_first_not_of("0123456789") != std::string::npos)
    return std::nullopt;
  auto port = std::stoul(port_text);
  if (port > 65535)
    return std::nullopt;
  return listen_address{host, static_cast<uint16_t>(port)};
}

parse_outcome parse_command_line(int argc, const char* const* argv) {
  std::vector<std::string> args(argv, argv + argc);
  server_options opts;
  CLI::App app{"eventide: an actor-model event processing server.\n"
               "Every option can be set in the config file as\n"
               "[group] name = value, or here as --group.name=value.",
               "eventide"};
  app.get_formatter()->column_width(34);
  app.set_version_flag("--version", EVENTIDE_VERSION);
  app.add_option("--config", opts.config_path, "config file (INI)");
  declare_options(app, opts);
  app.option_defaults()->multi_option_policy(CLI::MultiOptionPolicy::TakeLast);
  std::string error;
  auto path = take_config_path(args, error);
  if (!error.empty())
    return {std::nullopt, 2, error + "\n"};
  if (path) {
    std::vector<file_setting> settings;
    if (auto err = read_ini(*path, settings); !err.empty())
      return {std::nullopt, 2, err + "\n"};
    auto given = command_line_keys(argc, argv);
    std::vector<std::string> file_args{args.front()};
    for (auto& s : settings) {
      if (app.get_option_no_throw("--" + s.key) == nullptr)
        return {std::nullopt, 2,
                *path + ":" + std::to_string(s.line) + ": unknown option '"
                  + s.key + "'\n"};
      if (s.value.empty())
        continue; // an empty value keeps the default
      if (!given.count(s.key)) // the command line wins
        file_args.push_back("--" + s.key + "=" + s.value);
    }
    if (auto res = run_parser(app, file_args, "config file " + *path + ": "))
      return *res;
    app.clear();
    opts.config_path = *path;
  }
  if (auto res = run_parser(app, args, ""))
    return *res;
  // An empty list (`seeds = ""`) reaches CLI11 as one empty item.
  std::erase_if(opts.cluster_seeds,
                [](const std::string& s) { return s.empty() || s == "{}"; });
  if (auto err = check_semantics(opts); !err.empty())
    return {std::nullopt, 2, err + "\n"};
  if (opts.cluster_node_name.empty())
    opts.cluster_node_name = host_name();
  return {opts, 0, {}};
}

std::string describe(const server_options& o) {
  std::ostringstream out;
  out << "config=" << (o.config_path.empty() ? "(none)" : o.config_path)
      << " ingest.listen=" << o.ingest_listen
      << " ingest.max-inflight=" << o.ingest_max_inflight
      << " http.listen=" << o.http_listen
      << " http.max-body=" << o.http_max_body
      << " http.max-header-bytes=" << o.http_max_header_bytes
      << " engine.parsers=" << o.engine_parsers
      << " engine.shards=" << o.engine_shards
      << " engine.threads=" << o.engine_threads
      << " engine.io-threads=" << o.engine_io_threads
      << " limits.max-event-bytes=" << o.limits_max_event_bytes
      << " limits.max-depth=" << o.limits_max_depth
      << " limits.max-connections=" << o.limits_max_connections
      << " limits.idle-timeout-ms=" << o.limits_idle_timeout_ms
      << " limits.header-timeout-ms=" << o.limits_header_timeout_ms
      << " dedup.window=" << o.dedup_window
      << " storage.mode=" << o.storage_mode;
  if (o.storage_mode == "disk")
    out << " storage.data-dir=" << o.storage_data_dir
        << " storage.fsync=" << o.storage_fsync;
  out
      << " log.level=" << o.log_level << " log.format=" << o.log_format
      << " cluster.node-name=" << o.cluster_node_name;
  if (o.cluster_port != 0) {
    out << " cluster.name=" << o.cluster_name << " cluster.host="
        << o.cluster_host << " cluster.port=" << o.cluster_port
        << " cluster.seeds=";
    for (std::size_t i = 0; i < o.cluster_seeds.size(); ++i)
      out << (i ? "," : "") << o.cluster_seeds[i];
    out << " cluster.tls="
        << (o.cluster_tls_certificate.empty()
              ? "off"
              : o.cluster_tls_ca_file.empty() ? "encrypted"
                                              : "encrypted+verified");
  }
  out
      << " auth.token-file="
      << (o.auth_token_file.empty() ? "(none)" : o.auth_token_file)
      << " auth.allow-insecure=" << (o.auth_allow_insecure ? "true" : "false");
  return out.str();
}

} // namespace eventide

#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace eventide {

/// A `host:port` listen address.
struct listen_address {
  std::string host;
  uint16_t port = 0;
};

/// Every option of DESIGN.md §9 plus the engine's own; the member names
/// mirror the keys (`ingest.max-inflight` -> `ingest_max_inflight`).
struct server_options {
  std::string ingest_listen = "127.0.0.1:7070";
  uint64_t ingest_max_inflight = 65536;
  std::string http_listen = "127.0.0.1:8080";
  uint64_t http_max_body = 16777216;
  uint64_t http_max_header_bytes = 16384;
  uint32_t engine_parsers = 0;   // 0 = one per core
  uint32_t engine_shards = 64;
  uint32_t engine_threads = 0;   // CAF scheduler threads; 0 = one per core
  uint32_t engine_io_threads = 1; // network threads
  uint64_t limits_max_event_bytes = 65536;
  uint32_t limits_max_depth = 32;
  uint32_t limits_max_connections = 1024;     // per listener
  uint32_t limits_idle_timeout_ms = 60000;    // TCP and HTTP keep-alive idle
  uint32_t limits_header_timeout_ms = 10000;  // one HTTP request header
  uint64_t dedup_window = 1000000;
  std::string storage_mode = "disk";
  std::string storage_data_dir = "./data";
  std::string storage_fsync = "batch";
  uint32_t storage_fsync_interval_ms = 2;
  uint64_t storage_segment_bytes = 64ull << 20;
  uint64_t storage_snapshot_bytes = 256ull << 20;
  std::string log_level = "info";
  std::string log_format = "text";
  uint32_t log_slow_batch_ms = 250;
  std::string cluster_name = "eventide";
  std::string cluster_host = "127.0.0.1"; // bind and advertise address
  uint16_t cluster_port = 0;              // 0 = standalone
  std::vector<std::string> cluster_seeds;
  std::string cluster_node_name; // default: the host name
  uint32_t cluster_heartbeat_ms = 500;
  uint32_t cluster_timeout_ms = 2000;
  std::string cluster_tls_certificate; // PEM; set: nodes talk over TLS
  std::string cluster_tls_key;         // PEM private key of the certificate
  std::string cluster_tls_ca_file;     // PEM CA: peers must present a cert it signed
  std::string auth_token_file;   // empty = authentication off
  bool auth_allow_insecure = false; // non-loopback listeners without tokens
  std::string config_path;       // the file read, empty when none
};

/// What `parse_command_line` decided.
struct parse_outcome {
  std::optional<server_options> options; // set: start the server
  int exit_code = 0;    // otherwise exit with this code...
  std::string message;  // ...after printing this (help text or error)
};

/// Reads `--config PATH` (if given) and the command line, strictly: an
/// unknown key, a value of the wrong type or out of range is an error that
/// names the key. The command line wins over the file.
parse_outcome parse_command_line(int argc, const char* const* argv);

/// Splits "host:port" ("[::1]:80" for IPv6); nullopt when malformed.
std::optional<listen_address> parse_listen_address(const std::string& text);

/// The effective configuration as one log-friendly line.
std::string describe(const server_options& opts);

} // namespace eventide

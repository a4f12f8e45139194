#include "app/config.hpp"

#include <cstdlib>
#include <fstream>
#include <string>
#include <vector>

#include <doctest/doctest.h>

#include "tests/test_paths.hpp"

using namespace eventide;

namespace {

parse_outcome parse(std::vector<std::string> args) {
  args.insert(args.begin(), "eventide");
  std::vector<const char*> argv;
  for (auto& a : args)
    argv.push_back(a.c_str());
  return parse_command_line(static_cast<int>(argv.size()), argv.data());
}

std::string write_file(const std::string& name, const std::string& text) {
  auto path = "/tmp/eventide_config_test_" + name + ".conf";
  std::ofstream{path} << text;
  return path;
}

using eventide::test::source_dir;

} // namespace

TEST_SUITE("config") {

TEST_CASE("without arguments every option has its documented default") {
  auto res = parse({});
  REQUIRE(res.options);
  auto& o = *res.options;
  CHECK(o.ingest_listen == "127.0.0.1:7070");
  CHECK(o.http_listen == "127.0.0.1:8080");
  CHECK(o.http_max_body == 16777216);
  CHECK(o.engine_parsers == 0);
  CHECK(o.engine_shards == 64);
  CHECK(o.ingest_max_inflight == 65536);
  CHECK(o.limits_max_event_bytes == 65536);
  CHECK(o.limits_max_depth == 32);
  CHECK(o.dedup_window == 1000000);
  CHECK(o.storage_mode == "disk");
  CHECK(o.storage_fsync == "batch");
  CHECK(o.log_level == "info");
  CHECK(o.cluster_port == 0);
  CHECK_FALSE(o.cluster_node_name.empty());
}

TEST_CASE("the shipped config file parses and matches the defaults") {
  auto res = parse({"--config", source_dir() + "/config/eventide.conf"});
  REQUIRE_MESSAGE(res.options, res.message);
  auto defaults = parse({});
  CHECK(res.options->engine_shards == defaults.options->engine_shards);
  CHECK(res.options->http_listen == defaults.options->http_listen);
  CHECK(res.options->dedup_window == defaults.options->dedup_window);
  CHECK(res.options->cluster_seeds.empty());
  CHECK(res.options->limits_max_connections
        == defaults.options->limits_max_connections);
  CHECK(res.options->limits_idle_timeout_ms
        == defaults.options->limits_idle_timeout_ms);
  CHECK(res.options->limits_header_timeout_ms
        == defaults.options->limits_header_timeout_ms);
  CHECK(res.options->http_max_header_bytes
        == defaults.options->http_max_header_bytes);
}

TEST_CASE("the command line wins over the config file") {
  auto path = write_file("wins", "[limits]\nmax-event-bytes = 100\n"
                                 "[http]\nmax-body=5000 ; comment\n");
  auto res = parse({"--config", path, "--limits.max-event-bytes=200"});
  REQUIRE_MESSAGE(res.options, res.message);
  CHECK(res.options->limits_max_event_bytes == 200);
  CHECK(res.options->http_max_body == 5000);
  auto res2 = parse({"--limits.max-event-bytes=300", "--config=" + path});
  REQUIRE(res2.options);
  CHECK(res2.options->limits_max_event_bytes == 300);
}

TEST_CASE("an unknown key in the config file is refused with its name") {
  auto path = write_file("unknown", "[ingest]\nmax-inflite = 5\n");
  auto res = parse({"--config", path});
  CHECK_FALSE(res.options);
  CHECK(res.exit_code != 0);
  CHECK(res.message.find("ingest.max-inflite") != std::string::npos);
  CHECK(res.message.find(":2:") != std::string::npos);
}

TEST_CASE("a wrong-typed or out-of-range value is refused with its name") {
  for (auto text : {"[http]\nmax-body = abc\n", "[engine]\nshards = 0\n",
                    "[http]\nlisten = nonsense\n",
                    "[storage]\nmode = tape\n", "[cluster]\nport = 70000\n",
                    "[limits]\nmax-connections = 0\n",
                    "[limits]\nidle-timeout-ms = 99\n",
                    "[limits]\nheader-timeout-ms = 3600001\n",
                    "[http]\nmax-header-bytes = 1023\n"}) {
    auto res = parse({"--config", write_file("bad", text)});
    CAPTURE(text);
    CHECK_FALSE(res.options);
    CHECK(res.exit_code != 0);
    std::string t = text;
    auto section = t.substr(1, t.find(']') - 1);
    auto key = t.substr(t.find('\n') + 1);
    key = key.substr(0, key.find(' '));
    CHECK(res.message.find(section + "." + key) != std::string::npos);
  }
}

TEST_CASE("bad values on the command line are refused") {
  CHECK_FALSE(parse({"--engine.shards=-1"}).options);
  CHECK_FALSE(parse({"--ingest.listen=127.0.0.1"}).options);
  CHECK_FALSE(parse({"--no.such-option=1"}).options);
  CHECK_FALSE(parse({"--log.level=loud"}).options);
}

TEST_CASE("a missing config file is an error") {
  auto res = parse({"--config", "/nonexistent/eventide.conf"});
  CHECK_FALSE(res.options);
  CHECK(res.message.find("/nonexistent/eventide.conf") != std::string::npos);
}

TEST_CASE("help lists every option of the design with its default") {
  auto res = parse({"--help"});
  CHECK_FALSE(res.options);
  CHECK(res.exit_code == 0);
  for (auto name :
       {"ingest.listen", "http.listen", "http.max-body", "engine.parsers",
        "engine.shards", "ingest.max-inflight", "limits.max-event-bytes",
        "limits.max-depth", "dedup.window", "storage.mode", "storage.data-dir",
        "storage.fsync", "log.level", "log.format", "cluster.port",
        "cluster.seeds", "cluster.node-name", "config"})
    CHECK_MESSAGE(res.message.find(std::string{"--"} + name)
                    != std::string::npos,
                  name);
  CHECK(res.message.find("=127.0.0.1:7070") != std::string::npos);
}

TEST_CASE("cluster options: seeds need a port and must be host:port") {
  auto ok = parse({"--cluster.port=4000", "--cluster.seeds=10.0.0.1:4000,b:1",
                   "--cluster.name=prod"});
  REQUIRE(ok.options);
  CHECK(ok.options->cluster_port == 4000);
  CHECK(ok.options->cluster_seeds
        == std::vector<std::string>{"10.0.0.1:4000", "b:1"});
  CHECK(ok.options->cluster_name == "prod");
  CHECK(ok.options->cluster_host == "127.0.0.1");
  auto no_port = parse({"--cluster.seeds=10.0.0.1:4000"});
  CHECK_FALSE(no_port.options);
  CHECK(no_port.message.find("cluster.port") != std::string::npos);
  CHECK_FALSE(parse({"--cluster.port=4000", "--cluster.seeds=nonsense"})
                .options);
  CHECK_FALSE(parse({"--cluster.port=4000", "--cluster.heartbeat-ms=1000",
                     "--cluster.timeout-ms=500"})
                .options);
}

TEST_CASE("listen addresses split into host and port") {
  auto a = parse_listen_address("127.0.0.1:7070");
  REQUIRE(a);
  CHECK(a->host == "127.0.0.1");
  CHECK(a->port == 7070);
  auto b = parse_listen_address("[::1]:0");
  REQUIRE(b);
  CHECK(b->host == "::1");
  CHECK(b->port == 0);
  CHECK_FALSE(parse_listen_address("::1:80"));
  CHECK_FALSE(parse_listen_address("host:65536"));
  CHECK_FALSE(parse_listen_address("host:"));
  CHECK_FALSE(parse_listen_address(":80"));
  CHECK_FALSE(parse_listen_address("host:8x"));
}

}

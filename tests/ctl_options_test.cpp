#include "app/ctl/options.hpp"

#include <algorithm>
#include <fstream>

#include <doctest/doctest.h>

using namespace eventide::ctl;

namespace {

parse_result parse(std::vector<std::string> args, bool interactive = false) {
  return parse_arguments(args, ctl_options{}, interactive);
}

} // namespace

TEST_SUITE("ctl_options") {

TEST_CASE("without arguments the server is 127.0.0.1:8080 and no command "
          "is chosen") {
  auto r = parse({});
  REQUIRE(r.options);
  CHECK(r.options->host == "127.0.0.1");
  CHECK(r.options->port == "8080");
  CHECK_FALSE(r.options->json);
  CHECK(r.options->cmd.kind == command_kind::none);
}

TEST_CASE("global options work before and after the command") {
  auto r = parse({"--server", "10.0.0.5:9000", "actors", "--json"});
  REQUIRE(r.options);
  CHECK(r.options->host == "10.0.0.5");
  CHECK(r.options->port == "9000");
  CHECK(r.options->json);
  CHECK(r.options->cmd.kind == command_kind::actors);
  auto v6 = parse({"--server=[::1]:8081", "stats"});
  REQUIRE(v6.options);
  CHECK(v6.options->host == "::1");
  CHECK(v6.options->server() == "[::1]:8081");
}

TEST_CASE("actors takes a kind filter and a sort column") {
  auto r = parse({"actors", "--kind", "shard", "--sort", "busy"});
  REQUIRE(r.options);
  CHECK(r.options->cmd.kind_filter == "shard");
  CHECK(r.options->cmd.sort_by == "busy");
  auto bad = parse({"actors", "--sort", "colour"});
  CHECK_FALSE(bad.options);
  CHECK(bad.exit_code == usage_exit_code);
  CHECK(bad.message.find("--sort") != std::string::npos);
}

TEST_CASE("get, del and actor need their argument") {
  CHECK(parse({"get", "user:42"}).options->cmd.target == "user:42");
  CHECK(parse({"del", "k"}).options->cmd.kind == command_kind::del);
  CHECK(parse({"actor", "12"}).options->cmd.target == "12");
  CHECK_FALSE(parse({"get"}).options);
  CHECK_FALSE(parse({"actor", "shard-3"}).options);
  CHECK_FALSE(parse({"get", "a", "b"}).options);
}

TEST_CASE("send reads a file or stdin in batches") {
  auto r = parse({"send"});
  REQUIRE(r.options);
  CHECK(r.options->cmd.target.empty());
  CHECK(r.options->cmd.batch == 1000);
  r = parse({"send", "events.ndjson", "--batch", "50"});
  CHECK(r.options->cmd.target == "events.ndjson");
  CHECK(r.options->cmd.batch == 50);
  CHECK_FALSE(parse({"send", "--batch", "0"}).options);
}

TEST_CASE("tap needs exactly one of --key and --shard") {
  auto r = parse({"tap", "--key", "user:1", "--rate", "10"});
  REQUIRE(r.options);
  CHECK(r.options->cmd.tap_key == "user:1");
  CHECK(r.options->cmd.tap_rate == 10);
  CHECK(parse({"tap", "--shard", "3"}).options->cmd.tap_shard == 3u);
  CHECK_FALSE(parse({"tap"}).options);
  CHECK_FALSE(parse({"tap", "--key", "a", "--shard", "1"}).options);
  CHECK_FALSE(parse({"tap", "--shard", "1", "--rate", "5000"}).options);
}

TEST_CASE("top refreshes every --interval seconds, --once is one view") {
  auto r = parse({"top"});
  REQUIRE(r.options);
  CHECK(r.options->cmd.interval_s == 1.0);
  CHECK(r.options->cmd.iterations == 0);
  CHECK(parse({"top", "--once"}).options->cmd.iterations == 1);
  r = parse({"top", "--interval", "0.5", "--iterations", "3"});
  CHECK(r.options->cmd.interval_s == 0.5);
  CHECK(r.options->cmd.iterations == 3);
  CHECK_FALSE(parse({"top", "--interval", "0"}).options);
}

TEST_CASE("help and quit are commands only at the prompt") {
  CHECK_FALSE(parse({"quit"}).options);
  CHECK(parse({"quit"}, true).options->cmd.kind == command_kind::quit);
  CHECK(parse({"exit"}, true).options->cmd.kind == command_kind::quit);
  auto help = parse({"help"}, true);
  REQUIRE(help.options);
  CHECK(help.message.find("actors") != std::string::npos);
}

TEST_CASE("--help prints the usage and exits 0, bad input exits 64") {
  auto r = parse({"--help"});
  CHECK_FALSE(r.options);
  CHECK(r.exit_code == 0);
  CHECK(r.message.find("Usage") != std::string::npos);
  auto bad = parse({"frobnicate"});
  CHECK_FALSE(bad.options);
  CHECK(bad.exit_code == usage_exit_code);
  CHECK(parse({"--server", "nohost", "stats"}).exit_code == usage_exit_code);
}

TEST_CASE("a prompt line splits into words with quotes and escapes") {
  using v = std::vector<std::string>;
  CHECK(*split_words("  get   user:42 ") == v{"get", "user:42"});
  CHECK(*split_words("get 'a b' \"c d\" e\\ f") == v{"get", "a b", "c d",
                                                      "e f"});
  CHECK(*split_words("get ''") == v{"get", ""});
  CHECK(*split_words("") == v{});
  CHECK_FALSE(split_words("get 'open"));
}

TEST_CASE("server addresses need a host and a port up to 65535") {
  CHECK(split_host_port("localhost:80")
        == std::pair<std::string, std::string>{"localhost", "80"});
  CHECK(split_host_port("[::1]:8080")->first == "::1");
  CHECK_FALSE(split_host_port("localhost"));
  CHECK_FALSE(split_host_port(":80"));
  CHECK_FALSE(split_host_port("host:"));
  CHECK_FALSE(split_host_port("host:65536"));
  CHECK_FALSE(split_host_port("host:8o"));
  CHECK_FALSE(split_host_port("::1:80"));
}

TEST_CASE("completion offers every command") {
  auto names = command_names(true);
  CHECK(std::find(names.begin(), names.end(), "top") != names.end());
  CHECK(std::find(names.begin(), names.end(), "quit") != names.end());
  auto one_shot = command_names(false);
  CHECK(std::find(one_shot.begin(), one_shot.end(), "quit")
        == one_shot.end());
}

TEST_CASE("--token-file takes the first token of a server token file or "
          "the file's only word; $EVENTIDE_TOKEN is the fallback") {
  auto write = [](const std::string& name, const std::string& text) {
    auto path = "/tmp/eventide_ctl_token_test_" + name;
    std::ofstream{path} << text;
    return path;
  };
  std::string error;
  auto server_file = write("server", "# tokens\n\nread,admin first-token-0123456789\n"
                                     "write second-token-0123456789\n");
  CHECK(read_token_file(server_file, error) == "first-token-0123456789");
  auto bare = write("bare", "just-the-token-0123456789\n");
  CHECK(read_token_file(bare, error) == "just-the-token-0123456789");
  auto empty = write("empty", "# nothing\n");
  CHECK_FALSE(read_token_file(empty, error));
  CHECK(error.find("no token") != std::string::npos);
  CHECK_FALSE(read_token_file("/nonexistent/token", error));
  CHECK(error.find("/nonexistent/token") != std::string::npos);

  CHECK(resolve_token(bare, "from-env", error) == "just-the-token-0123456789");
  CHECK(resolve_token("", "from-env", error) == "from-env");
  CHECK(resolve_token("", nullptr, error) == "");
  auto parsed = parse({"--token-file", bare, "stats"});
  REQUIRE(parsed.options);
  CHECK(parsed.options->token_file == bare);
}

}

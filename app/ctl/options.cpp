#include "app/ctl/options.hpp"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

#include <CLI/CLI.hpp>

namespace eventide::ctl {

namespace {

const CLI::Validator digits_only{
  [](std::string& text) -> std::string {
    bool ok = !text.empty() && text.size() <= 19
              && std::all_of(text.begin(), text.end(),
                             [](char ch) { return ch >= '0' && ch <= '9'; });
    return ok ? std::string{} : "expected an actor id (a number)";
  },
  "ID"};

/// The CLI11 definition of every command, writing into `o`.
struct cli {
  CLI::App app{"eventide-ctl: inspect and feed an eventide server over its "
               "HTTP API",
               "eventide-ctl"};
  std::string server;
  std::vector<std::pair<CLI::App*, command_kind>> subs;

  cli(ctl_options& o, bool interactive) : server(o.server()) {
    app.set_help_flag("-h,--help", "print this help and exit");
    app.add_option("--server", server, "HTTP address of the server")
      ->capture_default_str();
    app.add_option("--token-file", o.token_file,
                   "file holding the bearer token (a server token file: its "
                   "first token); default: $EVENTIDE_TOKEN");
    app.add_flag("--json", o.json,
                 "machine output: the server's JSON, one document per "
                 "command");
    app.require_subcommand(0, 1);
    app.fallthrough();
    add_actors(o.cmd);
    add(command_kind::actor, "actor", "one actor in depth")
      ->add_option("id", o.cmd.target, "actor id")
      ->required()
      ->check(digits_only);
    add(command_kind::get, "get", "print the record of a key")
      ->add_option("key", o.cmd.target, "the key")
      ->required();
    add(command_kind::del, "del", "delete the record of a key")
      ->add_option("key", o.cmd.target, "the key")
      ->required();
    add(command_kind::stats, "stats", "server totals and rates");
    add_cluster(o.cmd);
    add_send(o.cmd);
    add_tap(o.cmd);
    add_top(o.cmd);
    if (interactive) {
      add(command_kind::help, "help", "list the commands");
      add(command_kind::quit, "quit", "leave eventide-ctl")->alias("exit");
    }
  }

  CLI::App* add(command_kind kind, const char* name, const char* help) {
    auto* sub = app.add_subcommand(name, help);
    sub->fallthrough();
    subs.emplace_back(sub, kind);
    return sub;
  }

  void add_cluster(command& c) {
    auto* sub = add(command_kind::cluster, "cluster",
                    "members and shard placement; 'cluster leave NODE' "
                    "hands a node's shards off and stops it, 'cluster "
                    "remove NODE' gives up a dead node (its data is lost)");
    sub->add_option("action", c.cluster_action, "leave or remove")
      ->check(CLI::IsMember({"leave", "remove"}));
    sub->add_option("node", c.target, "the member's cluster.node-name");
  }

  void add_actors(command& c) {
    auto* sub = add(command_kind::actors, "actors",
                    "every actor: mailbox, work done, keys, memory, busy "
                    "time");
    sub->add_option("--kind", c.kind_filter,
                    "only actors of this kind (shard, parser, router, "
                    "listener, session)");
    sub->add_option("--sort", c.sort_by,
                    "sort by this column (numbers: largest first)")
      ->check(CLI::IsMember(sort_columns()))
      ->capture_default_str();
  }

  void add_send(command& c) {
    auto* sub = add(command_kind::send, "send",
                    "POST NDJSON events from FILE (or stdin) in batches");
    sub->add_option("file", c.target, "NDJSON file; '-' or none: stdin");
    sub->add_option("--batch", c.batch, "lines per POST")
      ->check(CLI::Range(1u, 1000000u))
      ->capture_default_str();
  }

  void add_tap(command& c) {
    auto* sub = add(command_kind::tap, "tap",
                    "stream a sample of the events applied and rejected at "
                    "a key or a shard (Ctrl-C stops)");
    auto* key = sub->add_option("--key", c.tap_key, "the key to watch");
    auto* shard = sub->add_option("--shard", c.tap_shard, "the shard to watch");
    key->excludes(shard);
    sub->add_option("--rate", c.tap_rate,
                    "most events per second (server default 100, max 1000)")
      ->check(CLI::Range(1u, 1000u));
  }

  void add_top(command& c) {
    auto* sub = add(command_kind::top, "top",
                    "live view of the busiest actors (q or Ctrl-C quits)");
    sub->add_option("--interval", c.interval_s, "seconds between refreshes")
      ->check(CLI::Range(0.1, 3600.0))
      ->capture_default_str();
    auto* n = sub->add_option("--iterations", c.iterations,
                              "stop after this many refreshes")
                ->check(CLI::Range(1u, 1000000u));
    sub->add_flag_callback("--once", [&c] { c.iterations = 1; },
                           "show one view and exit")
      ->excludes(n);
  }

  command_kind selected() const {
    for (const auto& [sub, kind] : subs)
      if (sub->parsed())
        return kind;
    return command_kind::none;
  }
};

parse_result usage_error(std::string text) {
  parse_result r;
  r.message = std::move(text);
  r.exit_code = usage_exit_code;
  return r;
}

} // namespace

std::string ctl_options::server() const {
  if (host.find(':') != std::string::npos)
    return "[" + host + "]:" + port;
  return host + ":" + port;
}

const std::vector<std::string>& sort_columns() {
  static const std::vector<std::string> columns{
    "id",        "name",    "kind",     "shard", "mailbox", "processed",
    "applied",   "rejected", "keys",    "bytes", "busy"};
  return columns;
}

std::vector<std::string> command_names(bool interactive) {
  std::vector<std::string> names{"actors",  "actor", "get", "del",
                                 "stats",   "cluster", "send", "tap", "top"};
  if (interactive) {
    names.insert(names.end(), {"help", "quit", "exit"});
  }
  return names;
}

parse_result parse_arguments(const std::vector<std::string>& args,
                             const ctl_options& defaults, bool interactive) {
  ctl_options o = defaults;
  o.cmd = command{};
  cli c{o, interactive};
  std::vector<std::string> reversed(args.rbegin(), args.rend());
  try {
    c.app.parse(reversed);
  } catch (const CLI::ParseError& e) {
    std::ostringstream out, err;
    int code = c.app.exit(e, out, err);
    parse_result r;
    r.message = code == 0 ? out.str() : err.str();
    r.exit_code = code == 0 ? 0 : usage_exit_code;
    return r;
  }
  o.cmd.kind = c.selected();
  if (o.cmd.kind == command_kind::tap && o.cmd.tap_key.empty()
      && !o.cmd.tap_shard)
    return usage_error("tap: give --key K or --shard N\n");
  if (o.cmd.kind == command_kind::cluster && !o.cmd.cluster_action.empty()
      && o.cmd.target.empty())
    return usage_error("cluster " + o.cmd.cluster_action
                       + ": name the node (cluster " + o.cmd.cluster_action
                       + " NODE)\n");
  auto hp = split_host_port(c.server);
  if (!hp)
    return usage_error("--server: expected HOST:PORT, got '" + c.server
                       + "'\n");
  o.host = hp->first;
  o.port = hp->second;
  if (o.cmd.kind == command_kind::help) {
    parse_result r;
    r.options = o;
    ctl_options scratch;
    r.message = cli{scratch, interactive}.app.help();
    return r;
  }
  parse_result r;
  r.options = std::move(o);
  return r;
}

std::optional<std::vector<std::string>> split_words(std::string_view line) {
  std::vector<std::string> words;
  std::string word;
  bool in_word = false;
  char quote = 0;
  for (size_t i = 0; i < line.size(); ++i) {
    char ch = line[i];
    if (quote != 0 && ch == quote) {
      quote = 0;
    } else if (quote == '\'') {
      word += ch;
    } else if (ch == '\\' && i + 1 < line.size()) {
      word += line[++i];
      in_word = true;
    } else if (quote == 0 && (ch == '\'' || ch == '"')) {
      quote = ch;
      in_word = true;
    } else if (quote == 0 && (ch == ' ' || ch == '\t')) {
      if (in_word)
        words.push_back(std::move(word));
      word.clear();
      in_word = false;
    } else {
      word += ch;
      in_word = true;
    }
  }
  if (quote != 0)
    return std::nullopt;
  if (in_word)
    words.push_back(std::move(word));
  return words;
}

std::optional<std::pair<std::string, std::string>>
split_host_port(std::string_view text) {
  auto colon = text.rfind(':');
  if (colon == std::string_view::npos || colon == 0)
    return std::nullopt;
  auto host = text.substr(0, colon);
  auto port = text.substr(colon + 1);
  if (host.front() == '[') {
    if (host.size() < 3 || host.back() != ']')
      return std::nullopt;
    host = host.substr(1, host.size() - 2);
  } else if (host.find(':') != std::string_view::npos) {
    return std::nullopt;  // a bare IPv6 address needs brackets
  }
  if (port.empty() || port.size() > 5
      || !std::all_of(port.begin(), port.end(),
                      [](char ch) { return ch >= '0' && ch <= '9'; })
      || std::stoul(std::string{port}) > 65535)
    return std::nullopt;
  return std::pair{std::string{host}, std::string{port}};
}

std::optional<std::string> read_token_file(const std::string& path,
                                           std::string& error) {
  std::ifstream in{path};
  if (!in) {
    error = "--token-file " + path + ": " + std::strerror(errno);
    return std::nullopt;
  }
  for (std::string line; std::getline(in, line);) {
    auto words = split_words(line);
    if (!words || words->empty() || words->front().empty()
        || words->front().front() == '#')
      continue;
    // "SCOPES TOKEN" (a server token file) or just "TOKEN".
    return words->size() >= 2 ? (*words)[1] : words->front();
  }
  error = "--token-file " + path + ": no token in the file";
  return std::nullopt;
}

std::optional<std::string> resolve_token(const std::string& token_file,
                                         const char* env_token,
                                         std::string& error) {
  if (!token_file.empty())
    return read_token_file(token_file, error);
  if (env_token != nullptr)
    return std::string{env_token};
  return std::string{};
}

} // namespace eventide::ctl

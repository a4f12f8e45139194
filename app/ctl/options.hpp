#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace eventide::ctl {

enum class command_kind {
  none,
  actors,
  actor,
  get,
  del,
  stats,
  cluster,
  send,
  tap,
  top,
  help,  // interactive only
  quit,  // interactive only
};

/// One command with its arguments, as parsed from argv or a prompt line.
struct command {
  command_kind kind = command_kind::none;
  std::string target;          // actor id, key, or send's file ("-" = stdin)
  std::string kind_filter;     // actors --kind
  std::string sort_by = "id";  // actors --sort
  uint32_t batch = 1000;       // send --batch
  std::string tap_key;         // tap --key
  std::optional<uint32_t> tap_shard;
  uint32_t tap_rate = 0;       // 0 = the server's default
  double interval_s = 1;       // top --interval
  uint32_t iterations = 0;     // top: frames to show, 0 = until q
  std::string cluster_action;  // cluster leave|remove (target: the node)
};

/// Everything eventide-ctl was asked to do.
struct ctl_options {
  std::string host = "127.0.0.1";
  std::string port = "8080";
  bool json = false;
  std::string token_file;  // --token-file
  std::string token;       // sent as Authorization: Bearer; empty = none
  command cmd;

  std::string server() const;
};

/// The outcome of parsing: options, or text to print and an exit code.
struct parse_result {
  std::optional<ctl_options> options;
  std::string message;  // help (stdout) or an error (stderr)
  int exit_code = 0;    // 0 after --help, usage_exit_code on errors
};

/// Exit code of a usage error; 1 and 2 mean "failed" and "cannot reach".
inline constexpr int usage_exit_code = 64;

/// Columns `actors --sort` accepts.
const std::vector<std::string>& sort_columns();

/// Names of the commands, for help and tab completion.
std::vector<std::string> command_names(bool interactive);

/// Parses arguments without the program name. In interactive mode
/// `defaults` carries --server/--json from the start-up command line, and
/// `help` and `quit` are commands too.
parse_result parse_arguments(const std::vector<std::string>& args,
                             const ctl_options& defaults, bool interactive);

/// Splits a prompt line into words: blanks separate, '…' and "…" quote,
/// a backslash escapes the next character. nullopt on an open quote.
std::optional<std::vector<std::string>> split_words(std::string_view line);

/// The token of a token file: the first token of a server token file
/// (`SCOPES TOKEN` lines, `#` comments), or a file holding just the token.
/// nullopt with `error` set when the file cannot be read or holds none.
std::optional<std::string> read_token_file(const std::string& path,
                                           std::string& error);

/// The token to send: --token-file when given, else $EVENTIDE_TOKEN (may
/// be null), else none. nullopt with `error` when the file is unusable.
std::optional<std::string> resolve_token(const std::string& token_file,
                                         const char* env_token,
                                         std::string& error);

/// "HOST:PORT" or "[V6]:PORT" into its parts; nullopt when malformed.
std::optional<std::pair<std::string, std::string>>
split_host_port(std::string_view text);

} // namespace eventide::ctl

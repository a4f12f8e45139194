// The interactive mode uses libedit through its readline-compatible API
// (<editline/readline.h>): the few calls needed (readline, add_history,
// read/write_history, rl_completion_matches) are the well-known ones, and
// libedit is BSD-licensed, unlike GNU readline (GPL), so the binary keeps
// the project's licence options open. The native <histedit.h> API would
// need ~3x the code for the same prompt, history and completion.

#include "app/ctl/interactive.hpp"

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <optional>
#include <string>

#include <editline/readline.h>

#include "app/ctl/commands.hpp"
#include "app/ctl/http_client.hpp"
#include "app/ctl/terminal.hpp"

namespace eventide::ctl {

namespace {

constexpr int history_limit = 1000;

std::string history_path() {
  const char* home = std::getenv("HOME");
  if (home == nullptr || *home == '\0')
    return {};
  return std::string{home} + "/.eventide_ctl_history";
}

/// Generator for rl_completion_matches: command names starting with text.
char* next_command(const char* text, int state) {
  static std::vector<std::string> names;
  static size_t index = 0;
  if (state == 0) {
    names = command_names(true);
    index = 0;
  }
  size_t len = std::strlen(text);
  while (index < names.size()) {
    const auto& name = names[index++];
    if (name.compare(0, len, text) == 0)
      return strdup(name.c_str());  // libedit frees it
  }
  return nullptr;
}

/// Completes command names in the first word; later words fall back to
/// libedit's file name completion (useful for `send FILE`).
char** complete(const char* text, int start, int) {
  if (start != 0)
    return nullptr;
  return rl_completion_matches(text, next_command);
}

void add_to_history(const std::string& line, const std::string& path) {
  HIST_ENTRY* last = history_length > 0
                       ? history_get(history_base + history_length - 1)
                       : nullptr;
  if (last != nullptr && last->line != nullptr && line == last->line)
    return;
  add_history(line.c_str());
  if (!path.empty())
    write_history(path.c_str());  // after each command: survives a crash
}

/// Reads one line; nullopt at end of input (Ctrl-D).
std::optional<std::string> read_line() {
  for (;;) {
    clear_interrupt();
    char* raw = readline("eventide> ");
    if (raw != nullptr) {
      std::string line{raw};
      std::free(raw);
      return line;
    }
    if (!interrupted()) {
      std::fputc('\n', stdout);  // Ctrl-D: end the prompt line
      return std::nullopt;
    }
    std::fputc('\n', stdout);  // Ctrl-C at the prompt: a fresh prompt
  }
}

/// Runs one command; a lost server is reported, not fatal, here.
void run_line_on(const ctl_options& opts, http_client& http) {
  try {
    clear_interrupt();
    run_command(opts, http);
    if (interrupted())
      std::fputc('\n', stdout);  // after the ^C the terminal echoed
  } catch (const transport_error& e) {
    std::fprintf(stderr, "eventide-ctl: cannot reach %s: %s\n",
                 http.address().c_str(), e.what());
  } catch (const interrupted_error&) {
    std::fputs("interrupted\n", stderr);
  }
}

/// Runs one prompt line; false when the user asked to quit.
bool run_line(const std::string& line, const ctl_options& startup,
              http_client& http) {
  auto words = split_words(line);
  if (!words) {
    std::fprintf(stderr, "unterminated quote\n");
    return true;
  }
  if (words->empty())
    return true;
  auto parsed = parse_arguments(*words, startup, true);
  if (!parsed.options) {
    std::fputs(parsed.message.c_str(), parsed.exit_code == 0 ? stdout
                                                             : stderr);
    return true;
  }
  const auto& opts = *parsed.options;
  if (opts.cmd.kind == command_kind::quit)
    return false;
  if (opts.cmd.kind == command_kind::help) {
    std::fputs(parsed.message.c_str(), stdout);
    return true;
  }
  if (opts.server() != http.address()) {
    // --server on a prompt line talks to that server for this command.
    http_client other{opts.host, opts.port};
    other.set_token(opts.token);
    run_line_on(opts, other);
    return true;
  }
  run_line_on(opts, http);
  return true;
}

} // namespace

int run_interactive(const ctl_options& startup) {
  rl_readline_name = "eventide-ctl";  // for ~/.editrc
  rl_attempted_completion_function = complete;
  using_history();
  stifle_history(history_limit);
  auto path = history_path();
  if (!path.empty())
    read_history(path.c_str());
  http_client http{startup.host, startup.port};
  http.set_token(startup.token);
  std::printf("eventide-ctl %s; 'help' lists the commands, 'quit' leaves\n",
              startup.server().c_str());
  while (auto line = read_line()) {
    auto first = line->find_first_not_of(" \t");
    if (first == std::string::npos)
      continue;
    add_to_history(line->substr(first), path);
    if (!run_line(*line, startup, http))
      break;
  }
  return 0;
}

} // namespace eventide::ctl

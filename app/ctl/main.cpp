// eventide-ctl: the admin console in a terminal. One-shot commands
// (`eventide-ctl actors`), or an interactive prompt when no command is
// given and stdin is a terminal. Talks to the server's HTTP API only.

#include <cstdio>
#include <cstdlib>
#include <exception>
#include <string>
#include <vector>

#include "app/ctl/commands.hpp"
#include "app/ctl/http_client.hpp"
#include "app/ctl/interactive.hpp"
#include "app/ctl/options.hpp"
#include "app/ctl/terminal.hpp"

using namespace eventide::ctl;

int main(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  auto parsed = parse_arguments(args, ctl_options{}, false);
  if (!parsed.options) {
    std::fputs(parsed.message.c_str(),
               parsed.exit_code == 0 ? stdout : stderr);
    return parsed.exit_code;
  }
  auto& opts = *parsed.options;
  std::string token_error;
  auto token = resolve_token(opts.token_file, std::getenv("EVENTIDE_TOKEN"),
                             token_error);
  if (!token) {
    std::fprintf(stderr, "eventide-ctl: %s\n", token_error.c_str());
    return usage_exit_code;
  }
  opts.token = *token;
  install_interrupt_handler();
  try {
    if (opts.cmd.kind == command_kind::none) {
      if (!stdin_is_terminal()) {
        std::fputs("eventide-ctl: no command given (and stdin is not a "
                   "terminal for the interactive mode); try --help\n",
                   stderr);
        return usage_exit_code;
      }
      return run_interactive(opts);
    }
    http_client http{opts.host, opts.port};
    http.set_token(opts.token);
    return run_command(opts, http);
  } catch (const transport_error& e) {
    std::fprintf(stderr, "eventide-ctl: cannot reach %s: %s\n",
                 opts.server().c_str(), e.what());
    return 2;
  } catch (const interrupted_error&) {
    return 130;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "eventide-ctl: %s\n", e.what());
    return 1;
  }
}

#include "app/ctl/commands.hpp"

#include <cstdio>
#include <string>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include "app/ctl/render.hpp"
#include "app/ctl/send.hpp"
#include "app/ctl/terminal.hpp"
#include "app/ctl/top.hpp"

namespace eventide::ctl {

namespace json = boost::json;
using boost::beast::http::verb;

namespace {

/// Prints `text` on stdout, ending it with a newline.
void print(const std::string& text) {
  std::fputs(text.c_str(), stdout);
  if (text.empty() || text.back() != '\n')
    std::fputc('\n', stdout);
  std::fflush(stdout);
}

/// One request whose 200 answer is a JSON object shown by `render`.
/// --json prints the server's body as it is (also for errors).
template <class Render>
int show(http_client& http, verb method, const std::string& target,
         bool as_json, Render render, const std::string& not_found = {}) {
  auto res = http.request(method, target);
  if (as_json) {
    print(res.body);
    return res.status / 100 == 2 ? 0 : 1;
  }
  json::error_code ec;
  auto v = json::parse(res.body, ec);
  const auto* obj = ec ? nullptr : v.if_object();
  if (res.status == 404 && !not_found.empty()) {
    std::fprintf(stderr, "error: not_found: %s\n", not_found.c_str());
    return 1;
  }
  if (res.status / 100 != 2 || obj == nullptr) {
    std::fprintf(stderr, "%s\n",
                 render_server_error(res.status, res.body).c_str());
    return 1;
  }
  print(render(*obj));
  return 0;
}

int run_tap(const command& cmd, http_client& http, bool as_json) {
  std::string target = "/v1/tap?";
  if (cmd.tap_shard)
    target += "shard=" + std::to_string(*cmd.tap_shard);
  else
    target += "key=" + percent_encode(cmd.tap_key);
  if (cmd.tap_rate != 0)
    target += "&rate=" + std::to_string(cmd.tap_rate);
  auto on_line = [as_json](std::string_view line) {
    if (line.empty())
      return true;
    if (as_json) {
      print(std::string{line});
      return true;
    }
    json::error_code ec;
    auto v = json::parse(line, ec);
    if (ec || !v.is_object()) {
      print(std::string{line});
      return true;
    }
    auto text = render_tap_line(v.get_object());
    if (!text.empty())
      print(text);
    return true;
  };
  auto res = http.stream_lines(target, on_line);
  if (res.status != 200 && res.status != 0) {
    std::fprintf(stderr, "%s\n",
                 render_server_error(res.status, res.body).c_str());
    return 1;
  }
  return 0;
}

} // namespace

int run_command(const ctl_options& opts, http_client& http) {
  const auto& cmd = opts.cmd;
  bool js = opts.json;
  switch (cmd.kind) {
    case command_kind::actors:
      return show(http, verb::get, "/v1/actors", js, [&](const auto& o) {
        return render_actors(o, cmd.kind_filter, cmd.sort_by);
      });
    case command_kind::actor:
      return show(http, verb::get, "/v1/actors/" + cmd.target, js,
                  [](const auto& o) { return render_actor(o); },
                  "no actor with id " + cmd.target);
    case command_kind::get:
      return show(http, verb::get, "/v1/keys/" + percent_encode(cmd.target),
                  js, [](const auto& o) { return render_record(o); },
                  "no record for key '" + cmd.target + "'");
    case command_kind::del:
      return show(http, verb::delete_,
                  "/v1/keys/" + percent_encode(cmd.target), js,
                  [&](const auto&) { return "deleted " + cmd.target; },
                  "no record for key '" + cmd.target + "'");
    case command_kind::stats:
      return show(http, verb::get, "/v1/stats", js,
                  [](const auto& o) { return render_stats(o); });
    case command_kind::cluster:
      if (!cmd.cluster_action.empty())
        return show(http, verb::post,
                    "/v1/cluster/" + cmd.cluster_action
                      + "?node=" + percent_encode(cmd.target),
                    js, [&](const auto&) {
                      return cmd.cluster_action == "leave"
                               ? cmd.target + " is handing off its shards "
                                              "and will stop"
                               : cmd.target + " removed: its shards start "
                                              "empty on their new owners";
                    });
      return show(http, verb::get, "/v1/cluster", js,
                  [](const auto& o) { return render_cluster(o); });
    case command_kind::send:
      return run_send(cmd, http, js);
    case command_kind::tap:
      return run_tap(cmd, http, js);
    case command_kind::top:
      return run_top(cmd, http, js);
    case command_kind::none:
    case command_kind::help:
    case command_kind::quit:
      break;
  }
  return 0;
}

} // namespace eventide::ctl

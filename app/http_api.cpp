#include "app/http_api.hpp"

#include <algorithm>
#include <array>
#include <atomic>
#include <cctype>
#include <charconv>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/string_view.hpp>

#include "app/admin_assets.hpp"
#include "app/http_dispatch.hpp"
#include "app/line_framer.hpp"
#include "app/listener.hpp"
#include "app/views.hpp"

namespace eventide {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace json = boost::json;
using tcp = asio::ip::tcp;
using sys_error = boost::system::error_code;

namespace {

class http_session;

/// How long a connection closed after an error answer keeps discarding
/// input, so that unread bytes do not reset it under the answer.
constexpr auto drain_grace = std::chrono::seconds(2);

using request = http::request<http::string_body>;

/// A POST answer lists at most this many errors; the rest are counted
/// (`errors_omitted`, `rejected_by_code`). Without it a body of tiny bad
/// lines made an answer, and engine state, many times the body's size.
constexpr uint32_t http_listed_errors = 1000;

/// Counters of the sessions (the listener keeps the connection counters).
struct atomic_stats {
  std::atomic<uint64_t> requests{0};
  std::atomic<uint64_t> body_bytes{0};
  std::atomic<uint64_t> responses_4xx{0};
  std::atomic<uint64_t> responses_5xx{0};
  std::atomic<uint64_t> timed_out{0};
};

/// The answer a connection over limits.max-connections gets before closing.
std::string rejection_response(std::size_t limit) {
  auto body = "{\"error\":\"overloaded\",\"detail\":\"too many connections "
              "(limit "
              + std::to_string(limit) + ")\"}";
  return "HTTP/1.1 503 Service Unavailable\r\nServer: eventide\r\n"
         "Content-Type: application/json\r\nContent-Length: "
         + std::to_string(body.size())
         + "\r\nRetry-After: 1\r\nConnection: close\r\n\r\n" + body;
}

/// Bytes asked for by the first read of a keep-alive request.
constexpr std::size_t first_read_bytes = 4096;

// -- replies ------------------------------------------------------------------

/// A live stream a route hands to its session (GET /v1/tap): the session
/// writes `reply::body` as the first chunk, then everything `start`'s sink
/// receives, until the client goes away; destroying the stream stops it.
class reply_stream {
public:
  using sink = std::function<void(std::string)>; // any thread
  virtual ~reply_stream() = default;
  virtual void start(sink out) = 0;
};

/// What a route answers: a status and a body, JSON unless `content_type`
/// says otherwise (Allow for 405).
struct reply {
  http::status status = http::status::ok;
  std::string body{};
  std::string allow{};
  std::string content_type = "application/json";
  std::shared_ptr<reply_stream> stream{}; // chunked streaming answer
  bool challenge = false; // 401: add WWW-Authenticate
};

/// `in` with every byte that is not part of a valid UTF-8 sequence
/// replaced by U+FFFD. Why: details and the tap head echo bytes of the
/// request (path, percent-decoded key), and Boost.JSON writes strings out
/// unchecked, so invalid UTF-8 there made the answer invalid JSON.
std::string valid_utf8(std::string_view in) {
  std::string out;
  out.reserve(in.size());
  auto byte = [&](std::size_t i) {
    return i < in.size() ? static_cast<unsigned char>(in[i]) : 0u;
  };
  auto cont = [&](std::size_t i, unsigned lo = 0x80, unsigned hi = 0xBF) {
    auto b = byte(i);
    return i < in.size() && b >= lo && b <= hi;
  };
  for (std::size_t i = 0; i < in.size();) {
    auto b = byte(i);
    std::size_t n = 0; // length of a valid sequence at i, 0 if none
    if (b < 0x80)
      n = 1;
    else if (b >= 0xC2 && b <= 0xDF)
      n = cont(i + 1) ? 2 : 0;
    else if (b >= 0xE0 && b <= 0xEF) {
      unsigned lo = b == 0xE0 ? 0xA0 : 0x80;
      unsigned hi = b == 0xED ? 0x9F : 0xBF;
      n = cont(i + 1, lo, hi) && cont(i + 2) ? 3 : 0;
    } else if (b >= 0xF0 && b <= 0xF4) {
      unsigned lo = b == 0xF0 ? 0x90 : 0x80;
      unsigned hi = b == 0xF4 ? 0x8F : 0xBF;
      n = cont(i + 1, lo, hi) && cont(i + 2) && cont(i + 3) ? 4 : 0;
    }
    if (n == 0) {
      out += "\xEF\xBF\xBD";
      ++i;
      continue;
    }
    out.append(in.substr(i, n));
    i += n;
  }
  return out;
}

/// DESIGN.md §5: every error answer is {"error":"code","detail":"…"}.
reply error_reply(http::status status, std::string_view code,
                  std::string_view detail) {
  json::object obj;
  obj["error"] = code;
  obj["detail"] = valid_utf8(detail);
  return {status, json::serialize(obj)};
}

/// A backend failure: 503 when retrying later may help, 500 otherwise.
reply failure_reply(const failure& f) {
  auto retryable
    = f.code == error_code::overloaded || f.code == error_code::unavailable;
  auto status = retryable ? http::status::service_unavailable
                          : http::status::internal_server_error;
  return error_reply(status, to_string(f.code), f.detail);
}

reply internal_reply(std::string_view detail) {
  return error_reply(http::status::internal_server_error,
                     to_string(error_code::internal), detail);
}

using reply_fn = std::function<void(reply)>;

/// Builds a reply with `make`, turning an escaping exception into 500.
template <class Make>
void answer(const reply_fn& respond, Make&& make) {
  reply r;
  try {
    r = make();
  } catch (const std::exception& e) {
    r = internal_reply(e.what());
  } catch (...) {
    r = internal_reply("unknown exception");
  }
  respond(std::move(r));
}

// -- request helpers ----------------------------------------------------------

/// The media type of a Content-Type value: parameters dropped, lower case.
std::string media_type(std::string_view value) {
  value = value.substr(0, value.find(';'));
  while (!value.empty()
         && std::isspace(static_cast<unsigned char>(value.back())))
    value.remove_suffix(1);
  while (!value.empty()
         && std::isspace(static_cast<unsigned char>(value.front())))
    value.remove_prefix(1);
  std::string out{value};
  for (auto& c : out)
    c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

int hex_digit(char c) {
  if (c >= '0' && c <= '9')
    return c - '0';
  if (c >= 'a' && c <= 'f')
    return c - 'a' + 10;
  if (c >= 'A' && c <= 'F')
    return c - 'A' + 10;
  return -1;
}

/// Percent-decodes a path segment; nullopt on a malformed escape.
std::optional<std::string> percent_decode(std::string_view in) {
  std::string out;
  out.reserve(in.size());
  for (std::size_t i = 0; i < in.size(); ++i) {
    if (in[i] != '%') {
      out += in[i];
      continue;
    }
    if (i + 2 >= in.size())
      return std::nullopt;
    auto hi = hex_digit(in[i + 1]);
    auto lo = hex_digit(in[i + 2]);
    if (hi < 0 || lo < 0)
      return std::nullopt;
    out += static_cast<char>(hi * 16 + lo);
    i += 2;
  }
  return out;
}

// -- routes -------------------------------------------------------------------

/// What a route handler may use. It answers through `respond` exactly once,
/// possibly later and from another thread.
struct route_context {
  backend& be;
  const http_options& options;
  std::function<front_counts()> counters;
  request& req;
  std::string_view tail; // the path after a prefix route's pattern
  reply_fn respond;
};

using route_handler = void (*)(const route_context&);

/// One line of the route table: exact path or prefix, method, handler, and
/// the token scope it needs when authentication is on (nullopt: open).
struct route {
  std::string_view pattern;
  bool prefix;
  http::verb method;
  route_handler handle;
  std::optional<scope> needs;
};

/// Frames an NDJSON body like a connection, numbered from 0 (DESIGN.md §5:
/// index from 0); oversized lines become too_large.
ingest_chunk ndjson_chunk(const std::string& body, std::size_t max_line) {
  line_framer framer{max_line, 0};
  framer.feed(body.data(), body.size());
  framer.finish();
  return framer.take_chunk();
}

reply events_reply(const outcome<chunk_result>& r) {
  if (auto* f = std::get_if<failure>(&r))
    return failure_reply(*f);
  const auto& res = std::get<chunk_result>(r);
  if (res.not_json)
    return error_reply(http::status::bad_request,
                       to_string(error_code::invalid_json),
                       res.not_json_detail);
  json::array errors;
  for (const auto& rej : res.rejected) {
    json::object e;
    e["index"] = rej.seq;
    if (!rej.id.empty())
      e["id"] = rej.id;
    e["error"] = to_string(rej.code);
    e["detail"] = rej.detail;
    errors.emplace_back(std::move(e));
  }
  json::object obj;
  obj["accepted"] = res.applied;
  obj["duplicates"] = res.duplicates;
  auto rejected = rejected_count(res);
  obj["rejected"] = rejected;
  obj["errors"] = std::move(errors);
  if (rejected > res.rejected.size()) {
    // Past the listing limit: the total by code, so nothing goes uncounted.
    obj["errors_omitted"] = rejected - res.rejected.size();
    std::array<uint64_t, error_code_count> by_code{};
    for (const auto& rej : res.rejected)
      ++by_code[static_cast<std::size_t>(rej.code)];
    for (std::size_t i = 0; i < res.unlisted.size(); ++i)
      by_code[i] += res.unlisted[i];
    json::object codes;
    for (std::size_t i = 0; i < by_code.size(); ++i)
      if (by_code[i] > 0)
        codes[to_string(static_cast<error_code>(i))] = by_code[i];
    obj["rejected_by_code"] = std::move(codes);
  }
  return {http::status::ok, json::serialize(obj)};
}

void post_events(const route_context& ctx) {
  auto type = media_type(ctx.req[http::field::content_type]);
  ingest_chunk chunk;
  if (type == "application/x-ndjson") {
    chunk = ndjson_chunk(ctx.req.body(), ctx.options.max_event_bytes);
  } else if (type == "application/json") {
    chunk.format = chunk_format::json_value;
    chunk.first_seq = 0;
    chunk.data = std::move(ctx.req.body());
  } else {
    return ctx.respond(error_reply(
      http::status::unsupported_media_type, "unsupported_media_type",
      "Content-Type must be application/x-ndjson or application/json"));
  }
  chunk.list_limit = http_listed_errors;
  ctx.be.post_events(std::move(chunk),
                     [respond = ctx.respond](outcome<chunk_result> r) {
                       answer(respond, [&] { return events_reply(r); });
                     });
}

/// The percent-decoded key of /v1/keys/{key}, or the error reply.
std::variant<std::string, reply> key_of(const route_context& ctx) {
  auto key = percent_decode(ctx.tail);
  if (!key)
    return error_reply(http::status::bad_request, "bad_request",
                       "malformed percent escape in key");
  if (key->empty())
    return error_reply(http::status::not_found, "not_found", "no key given");
  return std::move(*key);
}

void get_key(const route_context& ctx) {
  auto key = key_of(ctx);
  if (auto* r = std::get_if<reply>(&key))
    return ctx.respond(std::move(*r));
  auto name = std::get<std::string>(key);
  ctx.be.get_key(
    std::move(std::get<std::string>(key)),
    [respond = ctx.respond, name](outcome<std::optional<std::string>> r) {
      answer(respond, [&]() -> reply {
        if (auto* f = std::get_if<failure>(&r))
          return failure_reply(*f);
        auto& record = std::get<std::optional<std::string>>(r);
        if (!record)
          return error_reply(http::status::not_found, "not_found",
                             "no record for key " + name);
        return {http::status::ok, std::move(*record)};
      });
    });
}

void delete_key(const route_context& ctx) {
  auto key = key_of(ctx);
  if (auto* r = std::get_if<reply>(&key))
    return ctx.respond(std::move(*r));
  auto name = std::get<std::string>(key);
  ctx.be.delete_key(std::move(std::get<std::string>(key)),
                    [respond = ctx.respond, name](outcome<bool> r) {
                      answer(respond, [&]() -> reply {
                        if (auto* f = std::get_if<failure>(&r))
                          return failure_reply(*f);
                        if (!std::get<bool>(r))
                          return error_reply(http::status::not_found,
                                             "not_found",
                                             "no record for key " + name);
                        return {http::status::ok, "{\"deleted\":true}"};
                      });
                    });
}

void get_stats(const route_context& ctx) {
  ctx.be.stats([respond = ctx.respond,
                counters = ctx.counters](outcome<system_totals> r) {
    answer(respond, [&]() -> reply {
      if (auto* f = std::get_if<failure>(&r))
        return failure_reply(*f);
      return {http::status::ok,
              render_stats(std::get<system_totals>(r), counters())};
    });
  });
}

void get_actors(const route_context& ctx) {
  ctx.be.actors(
    [respond = ctx.respond](outcome<std::vector<actor_info>> r) {
      answer(respond, [&]() -> reply {
        if (auto* f = std::get_if<failure>(&r))
          return failure_reply(*f);
        auto& list = std::get<std::vector<actor_info>>(r);
        auto node = list.empty() ? std::string{} : list.front().node;
        return {http::status::ok, render_actors(node, list)};
      });
    });
}

void get_actor(const route_context& ctx) {
  uint64_t id = 0;
  auto tail = ctx.tail;
  auto [end, ec] = std::from_chars(tail.data(), tail.data() + tail.size(), id);
  if (ec != std::errc{} || end != tail.data() + tail.size() || tail.empty())
    return ctx.respond(error_reply(http::status::bad_request, "bad_request",
                                   "actor id must be a number"));
  ctx.be.actor(id, [respond = ctx.respond,
                    id](outcome<std::optional<actor_info>> r) {
    answer(respond, [&]() -> reply {
      if (auto* f = std::get_if<failure>(&r))
        return failure_reply(*f);
      auto& info = std::get<std::optional<actor_info>>(r);
      if (!info)
        return error_reply(http::status::not_found, "not_found",
                           "no actor with id " + std::to_string(id));
      return {http::status::ok, render_actor(*info, true)};
    });
  });
}

void get_cluster(const route_context& ctx) {
  ctx.be.cluster([respond = ctx.respond](outcome<cluster_view> r) {
    answer(respond, [&]() -> reply {
      if (auto* f = std::get_if<failure>(&r))
        return failure_reply(*f);
      return {http::status::ok, render_cluster(std::get<cluster_view>(r))};
    });
  });
}

void get_metrics(const route_context& ctx) {
  // Totals first, then the actors; both answers are needed for one page.
  ctx.be.stats([be = &ctx.be, respond = ctx.respond,
                counters = ctx.counters](outcome<system_totals> totals) {
    if (auto* f = std::get_if<failure>(&totals))
      return respond(failure_reply(*f));
    be->actors([respond, counters, t = std::get<system_totals>(totals)](
                 outcome<std::vector<actor_info>> r) {
      answer(respond, [&]() -> reply {
        if (auto* f = std::get_if<failure>(&r))
          return failure_reply(*f);
        reply out{http::status::ok,
                  render_metrics(t, std::get<std::vector<actor_info>>(r),
                                 counters())};
        out.content_type = "text/plain; version=0.0.4; charset=utf-8";
        return out;
      });
    });
  });
}

/// The value of `name` in a query string (percent-decoded), if present.
std::optional<std::string> query_param(std::string_view target,
                                       std::string_view name) {
  auto q = target.find('?');
  if (q == std::string_view::npos)
    return std::nullopt;
  auto rest = target.substr(q + 1);
  while (!rest.empty()) {
    auto amp = rest.find('&');
    auto pair = rest.substr(0, amp);
    auto eq = pair.find('=');
    if (pair.substr(0, eq) == name)
      return percent_decode(eq == std::string_view::npos ? std::string_view{}
                                                         : pair.substr(eq + 1));
    if (amp == std::string_view::npos)
      break;
    rest.remove_prefix(amp + 1);
  }
  return std::nullopt;
}

/// GET /v1/tap: the backend's tap as a chunked NDJSON stream.
class tap_stream : public reply_stream,
                   public std::enable_shared_from_this<tap_stream> {
public:
  tap_stream(backend& be, backend::tap_request what)
    : be_(be), what_(std::move(what)) {
  }

  void start(sink out) override {
    // The handle arrives on an actor thread; keep it until we are gone.
    auto self = weak_from_this();
    be_.open_tap(
      what_, [out](tap_record rec) { out(render_tap_record(rec) + "\n"); },
      [self, out](outcome<std::shared_ptr<backend::tap_handle>> r) {
        if (auto* f = std::get_if<failure>(&r)) {
          out("{\"error\":\"" + std::string{to_string(f->code)}
              + "\",\"detail\":"
              + json::serialize(json::string_view{f->detail}) + "}\n");
          return;
        }
        if (auto keep = self.lock()) {
          std::lock_guard guard{keep->mutex_};
          keep->handle_ = std::get<std::shared_ptr<backend::tap_handle>>(r);
        }
      });
  }

private:
  backend& be_;
  backend::tap_request what_;
  std::mutex mutex_;
  std::shared_ptr<backend::tap_handle> handle_;
};

void get_tap(const route_context& ctx) {
  std::string_view target = ctx.req.target();
  auto key = query_param(target, "key");
  auto shard = query_param(target, "shard");
  auto rate = query_param(target, "rate");
  auto bad = [&](std::string detail) {
    ctx.respond(
      error_reply(http::status::bad_request, "bad_request", std::move(detail)));
  };
  if (key.has_value() == shard.has_value())
    return bad("give exactly one of key=K or shard=N");
  if (key && key->empty())
    return bad("key must not be empty");
  backend::tap_request what;
  auto number = [](const std::string& text, auto& value) {
    auto [end, ec]
      = std::from_chars(text.data(), text.data() + text.size(), value);
    return ec == std::errc{} && end == text.data() + text.size()
           && !text.empty();
  };
  if (rate) {
    if (!number(*rate, what.rate) || what.rate < 1 || what.rate > 1000)
      return bad("rate must be a number of records per second, 1 to 1000");
  }
  if (key)
    what.key = *key;
  if (shard && !number(*shard, what.shard))
    return bad("shard must be a shard index");
  // The shard count comes from the placement; validate before tapping.
  ctx.be.cluster([be = &ctx.be, respond = ctx.respond,
                  what](outcome<cluster_view> r) mutable {
    if (auto* f = std::get_if<failure>(&r))
      return respond(failure_reply(*f));
    auto shards = std::get<cluster_view>(r).placement.size();
    json::object head;
    if (what.key.empty()) {
      if (what.shard < 0 || static_cast<std::size_t>(what.shard) >= shards)
        return respond(error_reply(
          http::status::bad_request, "bad_request",
          "shard must be 0 to " + std::to_string(shards - 1)));
      head = {{"tap", "shard"}, {"shard", what.shard}};
    } else {
      head = {{"tap", "key"}, {"key", valid_utf8(what.key)}};
    }
    head["rate"] = what.rate;
    auto stream = std::make_shared<tap_stream>(*be, what);
    reply out{http::status::ok, json::serialize(head) + "\n"};
    out.content_type = "application/x-ndjson";
    out.stream = std::move(stream);
    respond(std::move(out));
  });
}

void get_health(const route_context& ctx) {
  ctx.respond({http::status::ok, "{\"status\":\"ok\"}"});
}

void get_ready(const route_context& ctx) {
  ctx.be.ready([respond = ctx.respond](outcome<bool> r) {
    auto* ready = std::get_if<bool>(&r);
    if (ready && *ready)
      return respond({http::status::ok, "{\"ready\":true}"});
    respond({http::status::service_unavailable, "{\"ready\":false}"});
  });
}

/// GET /admin/<file>: the console's embedded files ("" is the page).
void get_admin_asset(const route_context& ctx) {
  auto asset = find_admin_asset(ctx.tail);
  if (!asset)
    return ctx.respond(error_reply(http::status::not_found, "not_found",
                                   "no admin asset " + std::string{ctx.tail}));
  reply r{http::status::ok, std::string{asset->body}};
  // Served with Cache-Control: no-cache like every non-JSON answer: the
  // assets change with the binary, so the browser must revalidate.
  r.content_type = asset->content_type;
  ctx.respond(std::move(r));
}

/// POST /v1/cluster/leave?node=N (N hands its shards off, then stops) and
/// POST /v1/cluster/remove?node=N (give up a dead member; its shards start
/// empty elsewhere). 202 with what the cluster said.
void post_cluster_command(const route_context& ctx) {
  std::string_view target = ctx.req.target();
  auto command = std::string{ctx.tail.substr(0, ctx.tail.find('?'))};
  auto node = query_param(target, "node");
  if (command != "leave" && command != "remove")
    return ctx.respond(error_reply(http::status::not_found, "not_found",
                                   "no such cluster command"));
  if (!node || node->empty())
    return ctx.respond(error_reply(http::status::bad_request, "bad_request",
                                   "?node=NAME is required"));
  ctx.be.cluster_command(
    command, *node,
    [respond = ctx.respond, command, n = *node](outcome<std::string> r) {
      answer(respond, [&]() -> reply {
        if (auto* f = std::get_if<failure>(&r))
          return failure_reply(*f);
        return {http::status::accepted,
                boost::json::serialize(boost::json::object{
                  {"node", n}, {"result", std::get<std::string>(r)}})};
      });
    });
}

/// The route table.
const route routes[] = {
  {"/v1/events", false, http::verb::post, post_events, scope::write},
  {"/v1/keys/", true, http::verb::get, get_key, scope::read},
  {"/v1/keys/", true, http::verb::delete_, delete_key, scope::write},
  {"/v1/stats", false, http::verb::get, get_stats, scope::read},
  {"/v1/actors", false, http::verb::get, get_actors, scope::admin},
  {"/v1/actors/", true, http::verb::get, get_actor, scope::admin},
  {"/v1/cluster", false, http::verb::get, get_cluster, scope::admin},
  {"/v1/cluster/", true, http::verb::post, post_cluster_command,
   scope::admin},
  {"/v1/tap", false, http::verb::get, get_tap, scope::admin},
  {"/metrics", false, http::verb::get, get_metrics, scope::read},
  // Open: probes, and the console's static files (they hold no data).
  {"/healthz", false, http::verb::get, get_health, std::nullopt},
  {"/readyz", false, http::verb::get, get_ready, std::nullopt},
  {"/admin", false, http::verb::get, get_admin_asset, std::nullopt},
  {"/admin/", true, http::verb::get, get_admin_asset, std::nullopt},
};

bool matches(const route& r, std::string_view path) {
  if (r.prefix)
    return path.substr(0, r.pattern.size()) == r.pattern;
  return path == r.pattern;
}

/// The 401/403 answer for a request the token check refuses, or nullopt
/// when it may go on (authentication off, an open route, a good token, or
/// no route at all: that is a 404/405 for `dispatch`). Decided from the
/// header alone, so a refused POST's body is never read.
std::optional<reply> authorize(const http_options& options,
                               const http::request_header<>& req) {
  if (!options.auth)
    return std::nullopt;
  std::string_view target = req.target();
  auto path = target.substr(0, target.find('?'));
  const route* found = nullptr;
  for (const auto& r : routes)
    if (r.method == req.method() && matches(r, path)) {
      found = &r;
      break;
    }
  if (found == nullptr || !found->needs)
    return std::nullopt;
  std::optional<std::string_view> token;
  auto it = req.find(http::field::authorization);
  if (it != req.end())
    token = bearer_token(it->value());
  auto f = options.auth->check(token, *found->needs);
  if (f == auth_failure::none)
    return std::nullopt;
  reply r{f == auth_failure::scope ? http::status::forbidden
                                   : http::status::unauthorized,
          auth_error_json(f, *found->needs, false)};
  r.challenge = f != auth_failure::scope;
  return r;
}

/// Finds the route of `ctx.req` and runs it; 404 or 405 when none fits.
void dispatch(backend& be, const http_options& options,
              std::function<front_counts()> counters, request& req,
              reply_fn respond) {
  std::string_view target = req.target();
  auto path = target.substr(0, target.find('?'));
  std::string allow;
  for (const auto& r : routes) {
    if (!matches(r, path))
      continue;
    if (r.method == req.method()) {
      auto tail = r.prefix ? path.substr(r.pattern.size()) : path.substr(0, 0);
      r.handle(route_context{be, options, std::move(counters), req, tail,
                             std::move(respond)});
      return;
    }
    if (!allow.empty())
      allow += ", ";
    allow += http::to_string(r.method);
  }
  if (allow.empty())
    return respond(error_reply(http::status::not_found, "not_found",
                               "no route for " + std::string{path}));
  auto r = error_reply(http::status::method_not_allowed, "method_not_allowed",
                       "allowed: " + allow);
  r.allow = std::move(allow);
  respond(std::move(r));
}

} // namespace

std::optional<std::string> framing_error(
  const http::request_header<>& header) {
  // Why: a message whose length two hops could read differently is how
  // requests are smuggled; refuse anything but one plain length or chunked.
  auto lengths = header.count(http::field::content_length);
  auto encodings = header.count(http::field::transfer_encoding);
  if (lengths > 1)
    return "more than one Content-Length";
  if (lengths == 1) {
    auto v = header[http::field::content_length];
    if (v.empty() || v.find_first_not_of("0123456789") != v.npos)
      return "malformed Content-Length";
  }
  if (encodings == 0)
    return std::nullopt;
  if (lengths > 0)
    return "both Content-Length and Transfer-Encoding";
  if (encodings > 1)
    return "more than one Transfer-Encoding";
  if (header.version() < 11)
    return "Transfer-Encoding in an HTTP/1.0 request";
  auto v = header[http::field::transfer_encoding];
  while (!v.empty() && (v.front() == ' ' || v.front() == '\t'))
    v.remove_prefix(1);
  while (!v.empty() && (v.back() == ' ' || v.back() == '\t'))
    v.remove_suffix(1);
  if (!beast::iequals(v, "chunked"))
    return "unsupported Transfer-Encoding (only chunked)";
  return std::nullopt;
}

void dispatch_for_test(backend& be, const http_options& options,
                       request& req,
                       std::function<void(dispatch_reply)> respond) {
  reply_fn to_reply = [respond = std::move(respond)](reply r) {
    respond({static_cast<unsigned>(r.status), std::move(r.body),
             std::move(r.allow), std::move(r.content_type),
             r.stream != nullptr});
  };
  try {
    dispatch(be, options, [] { return front_counts{}; }, req, to_reply);
  } catch (const std::exception& e) {
    to_reply(internal_reply(e.what()));
  } catch (...) {
    to_reply(internal_reply("unknown exception"));
  }
}

// -- listener -----------------------------------------------------------------

/// What the sessions share: backend, limits, counters and the listener.
class http_api::impl : public std::enable_shared_from_this<impl> {
public:
  impl(asio::io_context& io, const tcp::endpoint& endpoint, backend& be,
       http_options options);

  /// Starts accepting; every session keeps this impl alive.
  void start();

  /// Called by a session once its socket is closed.
  void remove(http_session* s);

  /// The counters of both front ends (any thread).
  front_counts counters() const;

  backend& backend_;
  const http_options options_;
  atomic_stats stats_;
  const std::shared_ptr<listener<http_session>> listener_;
};

namespace {

/// One HTTP connection; every member is touched only on its strand. One
/// request at a time: read header, read body, handle, write, read next.
class http_session : public std::enable_shared_from_this<http_session> {
public:
  http_session(tcp::socket socket, std::shared_ptr<http_api::impl> owner)
    : stream_(std::move(socket)), owner_(std::move(owner)) {
  }

  void start() {
    asio::post(stream_.get_executor(),
               [self = shared_from_this()] { self->do_read_header(); });
  }

  /// Server shutdown: finish the request in flight, close when idle; a
  /// live stream ends at once.
  void stop() {
    asio::post(stream_.get_executor(), [self = shared_from_this()] {
      self->stopping_ = true;
      if (self->live_)
        return self->close();
      if (self->idle_)
        self->stream_.socket().cancel();
    });
  }

private:
  // Timeouts: between keep-alive requests the connection may idle for
  // limits.idle-timeout-ms; from a request's first byte (on a new
  // connection from accept) its header must be complete within
  // limits.header-timeout-ms, however slowly it trickles in (slowloris);
  // a body may pause for at most the idle timeout between two reads.

  void do_read_header() {
    if (stopping_)
      return close();
    parser_.emplace();
    parser_->header_limit(
      static_cast<std::uint32_t>(owner_->options_.max_header_bytes));
    parser_->body_limit(owner_->options_.max_body);
    // Why: a pipelined request may already be buffered; only a read that
    // waits on the socket with nothing buffered is an idle connection.
    idle_ = buffer_.size() == 0;
    if (idle_ && request_number_ > 0)
      return do_wait_request();
    do_read_header_bytes();
  }

  /// Keep-alive: waits (idle timeout) for the next request's first bytes.
  void do_wait_request() {
    stream_.expires_after(owner_->options_.idle_timeout);
    stream_.async_read_some(
      buffer_.prepare(first_read_bytes),
      [self = shared_from_this()](sys_error ec, std::size_t n) {
        self->idle_ = false;
        if (ec)
          return self->on_read_error(ec);
        self->buffer_.commit(n);
        self->do_read_header_bytes();
      });
  }

  void do_read_header_bytes() {
    stream_.expires_after(owner_->options_.header_timeout);
    http::async_read_header(
      stream_, buffer_, *parser_,
      [self = shared_from_this()](sys_error ec, std::size_t) {
        self->on_read_header(ec);
      });
  }

  void on_read_header(sys_error ec) {
    idle_ = false;
    if (ec)
      return on_read_error(ec);
    ++owner_->stats_.requests;
    if (auto problem = framing_error(parser_->get()))
      return send_close(error_reply(http::status::bad_request, "bad_request",
                                    "ambiguous request framing: " + *problem));
    auto length = parser_->content_length();
    // Why: DESIGN.md §5 413 over http.max-body, decided before the body.
    if (length && *length > owner_->options_.max_body)
      return send_body_too_large();
    if (auto denied = authorize(owner_->options_, parser_->get())) {
      // A request with a body is answered at once and the connection
      // closed, so an unauthenticated client cannot make us read it.
      if (parser_->chunked() || (length && *length > 0))
        return send_close(std::move(*denied));
      denied_ = std::move(denied);
    }
    if (beast::iequals(parser_->get()[http::field::expect], "100-continue"))
      return do_continue();
    do_read_body();
  }

  /// Tells a client waiting on `Expect: 100-continue` to send the body.
  void do_continue() {
    static const std::string continue_line = "HTTP/1.1 100 Continue\r\n\r\n";
    asio::async_write(stream_, asio::buffer(continue_line),
                      [self = shared_from_this()](sys_error ec, std::size_t) {
                        if (ec)
                          return self->close();
                        self->do_read_body();
                      });
  }

  /// Reads the body piece by piece, so the idle timeout bounds each pause,
  /// not the whole upload.
  void do_read_body() {
    if (parser_->is_done())
      return on_body_done();
    stream_.expires_after(owner_->options_.idle_timeout);
    http::async_read_some(
      stream_, buffer_, *parser_,
      [self = shared_from_this()](sys_error ec, std::size_t) {
        if (ec)
          return self->on_read_error(ec);
        self->do_read_body();
      });
  }

  void on_body_done() {
    stream_.expires_never(); // the backend answers every call
    request_ = parser_->release();
    owner_->stats_.body_bytes += request_.body().size();
    handle();
  }

  void on_read_error(sys_error ec) {
    if (ec == http::error::body_limit)
      return send_body_too_large();
    if (ec == http::error::header_limit)
      return send_close(error_reply(
        http::status::request_header_fields_too_large,
        to_string(error_code::too_large),
        "request header exceeds http.max-header-bytes ("
          + std::to_string(owner_->options_.max_header_bytes) + " bytes)"));
    if (ec == beast::error::timeout)
      ++owner_->stats_.timed_out;
    if (is_malformed(ec))
      return send_close(error_reply(http::status::bad_request, "bad_request",
                                    "malformed HTTP request: " + ec.message()));
    close(); // EOF, timeout, reset, shutdown: nothing to answer
  }

  /// A parse error of the request itself (not EOF or a broken connection).
  static bool is_malformed(sys_error ec) {
    static const auto& http_category
      = sys_error{http::error::end_of_stream}.category();
    return ec.category() == http_category && ec != http::error::end_of_stream
           && ec != http::error::partial_message;
  }

  void send_body_too_large() {
    send_close(error_reply(
      http::status::payload_too_large, to_string(error_code::too_large),
      "request body exceeds http.max-body ("
        + std::to_string(owner_->options_.max_body) + " bytes)"));
  }

  void handle() {
    auto number = ++request_number_;
    if (denied_) {
      auto r = std::move(*denied_);
      denied_.reset();
      return on_reply(number, std::move(r));
    }
    auto executor = stream_.get_executor();
    reply_fn respond = [self = shared_from_this(), executor, number](reply r) {
      asio::post(executor, [self, number, r = std::move(r)]() mutable {
        self->on_reply(number, std::move(r));
      });
    };
    try {
      dispatch(owner_->backend_, owner_->options_,
               [owner = owner_] { return owner->counters(); }, request_,
               respond);
    } catch (const std::exception& e) {
      respond(internal_reply(e.what()));
    } catch (...) {
      respond(internal_reply("unknown exception"));
    }
  }

  void on_reply(uint64_t number, reply r) {
    // Why: a handler that threw after answering must not answer twice.
    if (number != request_number_ || answered_ == number)
      return;
    answered_ = number;
    if (r.stream)
      return start_stream(std::move(r));
    do_write(std::move(r), request_.keep_alive() && !stopping_,
             request_.version());
  }

  // -- a streaming answer (GET /v1/tap) --------------------------------------
  // The connection carries one chunked response until the client closes it
  // (or the server stops). Data arrives from actor threads through `push`;
  // the pending text is bounded, and what does not fit is dropped and
  // counted in a {"dropped":N} line, so a slow reader costs no memory.

  static constexpr std::size_t max_stream_backlog = 256 * 1024;
  static constexpr auto stream_heartbeat = std::chrono::seconds(5);

  void start_stream(reply r) {
    if (stopping_)
      return close();
    count(r.status);
    live_ = true;
    live_stream_ = std::move(r.stream);
    std::string head = "HTTP/1.1 200 OK\r\nServer: eventide\r\n"
                       "Content-Type: "
                       + r.content_type
                       + "\r\nCache-Control: no-cache\r\n"
                         "Transfer-Encoding: chunked\r\n\r\n";
    stream_out_ = std::move(head);
    append_chunk(r.body);
    auto executor = stream_.get_executor();
    std::weak_ptr<http_session> weak = shared_from_this();
    live_stream_->start([weak, executor](std::string data) {
      auto self = weak.lock();
      if (!self)
        return;
      asio::post(executor, [self, data = std::move(data)]() mutable {
        self->push(std::move(data));
      });
    });
    flush_stream();
    watch_client();
    arm_heartbeat();
  }

  void append_chunk(std::string_view data) {
    if (data.empty())
      return;
    char size[20];
    auto [end, ec] = std::to_chars(size, size + sizeof size, data.size(), 16);
    (void) ec;
    stream_out_.append(size, end);
    stream_out_ += "\r\n";
    stream_out_ += data;
    stream_out_ += "\r\n";
  }

  void push(std::string data) {
    if (!live_ || closed_)
      return;
    if (stream_out_.size() + stream_sending_.size() + data.size()
        > max_stream_backlog) {
      ++stream_dropped_;
      return;
    }
    if (stream_dropped_ > 0) {
      append_chunk("{\"dropped\":" + std::to_string(stream_dropped_)
                   + "}\n");
      stream_dropped_ = 0;
    }
    append_chunk(data);
    flush_stream();
  }

  void flush_stream() {
    if (stream_writing_ || stream_out_.empty() || closed_)
      return;
    stream_writing_ = true;
    stream_sending_.swap(stream_out_);
    last_stream_write_ = std::chrono::steady_clock::now();
    asio::async_write(stream_.socket(), asio::buffer(stream_sending_),
                      [self = shared_from_this()](sys_error ec, std::size_t) {
                        self->stream_writing_ = false;
                        self->stream_sending_.clear();
                        if (ec)
                          return self->close();
                        self->flush_stream();
                      });
  }

  /// The client never sends anything on a stream: a read completes only
  /// when it closes (or resets) the connection.
  void watch_client() {
    stream_.socket().async_read_some(
      asio::buffer(scratch_),
      [self = shared_from_this()](sys_error ec, std::size_t) {
        if (ec)
          return self->close();
        self->watch_client();
      });
  }

  void arm_heartbeat() {
    if (!heartbeat_)
      heartbeat_.emplace(stream_.get_executor());
    heartbeat_->expires_after(stream_heartbeat);
    heartbeat_->async_wait([self = shared_from_this()](sys_error ec) {
      if (ec || self->closed_)
        return;
      auto quiet = std::chrono::steady_clock::now() - self->last_stream_write_;
      if (quiet >= stream_heartbeat) {
        auto now = std::chrono::duration_cast<std::chrono::milliseconds>(
                     std::chrono::system_clock::now().time_since_epoch())
                     .count();
        self->append_chunk("{\"heartbeat\":" + std::to_string(now) + "}\n");
        self->flush_stream();
      }
      self->arm_heartbeat();
    });
  }

  /// Answers and closes: after an error the rest of the input is unusable.
  void send_close(reply r) {
    do_write(std::move(r), false, 11);
  }

  void do_write(reply r, bool keep_alive, unsigned version) {
    count(r.status);
    response_ = {};
    response_.version(version);
    response_.result(r.status);
    response_.set(http::field::server, "eventide");
    response_.set(http::field::content_type, r.content_type);
    if (r.content_type.rfind("application/json", 0) != 0)
      response_.set(http::field::cache_control, "no-cache");
    if (!r.allow.empty())
      response_.set(http::field::allow, r.allow);
    if (r.challenge)
      response_.set(http::field::www_authenticate, "Bearer realm=\"eventide\"");
    response_.body() = std::move(r.body);
    response_.keep_alive(keep_alive);
    response_.prepare_payload();
    stream_.expires_after(owner_->options_.idle_timeout);
    http::async_write(stream_, response_,
                      [self = shared_from_this()](sys_error ec, std::size_t) {
                        self->on_write(ec);
                      });
  }

  void on_write(sys_error ec) {
    if (ec)
      return close();
    if (!response_.keep_alive())
      return do_drain();
    do_read_header();
  }

  void count(http::status status) {
    auto code = static_cast<unsigned>(status);
    if (code >= 500)
      ++owner_->stats_.responses_5xx;
    else if (code >= 400)
      ++owner_->stats_.responses_4xx;
  }

  /// Half-closes and discards input until the client closes (bounded), so
  /// unread bytes do not turn the close into a reset under our answer.
  void do_drain() {
    sys_error ignored;
    stream_.socket().shutdown(tcp::socket::shutdown_send, ignored);
    stream_.expires_after(drain_grace);
    drain_next();
  }

  void drain_next() {
    stream_.async_read_some(
      asio::buffer(scratch_),
      [self = shared_from_this()](sys_error ec, std::size_t) {
        if (ec)
          return self->close();
        self->drain_next();
      });
  }

  void close() {
    if (closed_)
      return;
    closed_ = true;
    live_stream_.reset(); // ends a tap: it holds a reference to us
    if (heartbeat_)
      heartbeat_->cancel();
    sys_error ignored;
    stream_.socket().shutdown(tcp::socket::shutdown_both, ignored);
    stream_.close();
    owner_->remove(this);
  }

  beast::tcp_stream stream_; // its executor is this session's strand
  std::shared_ptr<http_api::impl> owner_;
  beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::string_body>> parser_;
  request request_;
  http::response<http::string_body> response_;
  std::array<char, 4096> scratch_{};
  uint64_t request_number_ = 0;
  uint64_t answered_ = 0;
  std::optional<reply> denied_; // refused by the token check (no body)
  bool idle_ = false;
  bool stopping_ = false;
  bool closed_ = false;
  // a streaming answer
  bool live_ = false;
  std::shared_ptr<reply_stream> live_stream_;
  std::string stream_out_;     // framed chunks not yet written
  std::string stream_sending_; // the chunks being written
  bool stream_writing_ = false;
  uint64_t stream_dropped_ = 0;
  std::chrono::steady_clock::time_point last_stream_write_;
  std::optional<asio::steady_timer> heartbeat_;
};

} // namespace

http_api::impl::impl(asio::io_context& io, const tcp::endpoint& endpoint,
                     backend& be, http_options options)
  : backend_(be), options_(options),
    listener_(std::make_shared<listener<http_session>>(io, endpoint, "http")) {
  listener_->limit({options_.max_connections,
                    rejection_response(options_.max_connections)});
}

void http_api::impl::start() {
  listener_->start([self = shared_from_this()](tcp::socket socket) {
    return std::make_shared<http_session>(std::move(socket), self);
  });
}

void http_api::impl::remove(http_session* s) {
  listener_->remove(s);
}

http_api::http_api(asio::io_context& io, const tcp::endpoint& endpoint,
                   backend& be, http_options options)
  : impl_(std::make_shared<impl>(io, endpoint, be, options)) {
}

http_api::~http_api() {
  impl_->listener_->close();
}

tcp::endpoint http_api::local_endpoint() const {
  return impl_->listener_->local_endpoint();
}

void http_api::start() {
  impl_->start();
}

void http_api::shutdown(std::function<void()> done) {
  impl_->listener_->shutdown(std::move(done));
}

front_counts http_api::impl::counters() const {
  front_counts out;
  if (options_.ingest_counters)
    out.tcp = options_.ingest_counters();
  const auto& l = *listener_;
  out.http.connections_accepted = l.connections_accepted();
  out.http.connections_open = l.connections_open();
  out.http.requests = stats_.requests;
  out.http.responses_4xx = stats_.responses_4xx;
  out.http.responses_5xx = stats_.responses_5xx;
  out.http.accept_errors = l.accept_errors();
  out.http.body_bytes = stats_.body_bytes;
  out.http.connections_rejected = l.connections_rejected();
  out.http.connections_timed_out = stats_.timed_out;
  if (options_.auth)
    out.auth = options_.auth->stats();
  return out;
}

http_stats http_api::stats() const {
  return impl_->counters().http;
}


} // namespace eventide

// libFuzzer target: the HTTP request path. The input is a byte stream a
// client sent: Beast's request parser reads it with the session's header and
// body limits, and each complete request (up to 8 pipelined) runs through
// the real route table (app/http_dispatch.hpp) against a backend that
// answers at once. Byte 0 picks the body limit. Checks: exactly one answer
// per request, a sane status, JSON bodies parse, 405 names what is allowed.

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <boost/beast/core/error.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/json/parse.hpp>

#include "actors/chunk_decoder.hpp"
#include "app/http_dispatch.hpp"
#include "tests/fuzz/fuzz_common.hpp"

using namespace eventide;
using fuzz::check;
namespace http = boost::beast::http;

namespace {

/// Answers every call synchronously; POSTs go through the real decoder.
class instant_backend : public backend {
public:
  class null_channel : public channel {
  public:
    void submit(ingest_chunk) override {
    }
  };

  std::unique_ptr<channel> open_channel(result_handler, std::string) override {
    return std::make_unique<null_channel>();
  }

  void post_events(ingest_chunk chunk, result_handler done) override {
    if (chunk.data.find("overload") != std::string::npos)
      return done(failure{error_code::overloaded, "queue full"});
    decoded_chunk out;
    decode_chunk(chunk, 4, input_limits{}, 1764000000000, out);
    out.result.applied = out.scratch.size();
    done(std::move(out.result));
  }

  void get_key(std::string key,
               std::function<void(outcome<std::optional<std::string>>)> done)
    override {
    if (key.rfind("user:", 0) == 0)
      return done(std::optional<std::string>{
        R"({"key":"user:42","fields":{"clicks":1},"events":1,)"
        R"("first_ts":1,"last_ts":1,"version":1})"});
    if (key == "fail")
      return done(failure{error_code::unavailable, "shard down"});
    done(std::optional<std::string>{});
  }

  void delete_key(std::string key,
                  std::function<void(outcome<bool>)> done) override {
    done(key.size() % 2 == 0);
  }

  void stats(std::function<void(outcome<system_totals>)> done) override {
    system_totals t;
    t.node = "node-a";
    t.shards = 4;
    t.parsers = 2;
    t.accepted = 3;
    done(t);
  }

  void ready(std::function<void(outcome<bool>)> done) override {
    done(true);
  }

  void actors(std::function<void(outcome<std::vector<actor_info>>)> done)
    override {
    done(std::vector<actor_info>{sample_actor()});
  }

  void actor(uint64_t id,
             std::function<void(outcome<std::optional<actor_info>>)> done)
    override {
    if (id == 1)
      return done(std::optional<actor_info>{sample_actor()});
    done(std::optional<actor_info>{});
  }

  void cluster_command(std::string, std::string node,
                       std::function<void(outcome<std::string>)> done)
    override {
    if (node == "ghost")
      return done(failure{error_code::internal, "no member named ghost"});
    done(std::string{"leaving"});
  }

  void cluster(std::function<void(outcome<cluster_view>)> done) override {
    cluster_view v;
    v.self = "node-a";
    v.members.push_back({"node-a", "", "up", 4});
    v.placement.assign(4, "node-a");
    done(v);
  }

  void open_tap(tap_request, tap_sink,
                std::function<void(outcome<std::shared_ptr<tap_handle>>)>
                  opened) override {
    opened(failure{error_code::unavailable, "no taps here"});
  }

private:
  static actor_info sample_actor() {
    actor_info a;
    a.id = 1;
    a.name = "shard-0";
    a.kind = "shard";
    a.node = "node-a";
    a.shard = 0;
    a.detail = R"({"hot_keys":[]})";
    return a;
  }
};

void check_reply(const dispatch_reply& r) {
  check(r.status >= 200 && r.status <= 599);
  if (r.status == 405)
    check(!r.allow.empty());
  if (r.content_type == "application/json") {
    boost::system::error_code ec;
    boost::json::parse(r.body, ec);
    check(!ec);
  }
  if (r.stream) { // the tap's head line is one JSON object
    check(r.status == 200 && !r.body.empty() && r.body.back() == '\n');
    boost::system::error_code ec;
    boost::json::parse(r.body, ec);
    check(!ec);
  }
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, std::size_t size) {
  fuzz::input in{data, size};
  auto cfg = in.byte();
  http_options options;
  if (cfg & 1u)
    options.max_body = 64; // 413 territory
  options.max_event_bytes = (cfg & 2u) ? 65536 : 32;
  auto stream = in.rest();

  instant_backend be;
  for (int n = 0; n < 8 && !stream.empty(); ++n) {
    http::request_parser<http::string_body> parser;
    parser.header_limit(
      static_cast<std::uint32_t>(options.max_header_bytes));
    parser.body_limit(options.max_body);
    parser.eager(true);
    boost::beast::error_code ec;
    std::size_t used = 0;
    while (!parser.is_done() && used < stream.size()) {
      auto k = parser.put(
        boost::asio::buffer(stream.data() + used, stream.size() - used), ec);
      used += k;
      if (ec == http::error::need_more && k == 0)
        break; // no further progress: the input ends mid-request
      if (ec && ec != http::error::need_more)
        break;
      ec = {};
    }
    if (ec && ec != http::error::need_more)
      return 0; // malformed or over a limit: the session answers 400/413
    if (!parser.is_done())
      return 0; // incomplete: the session waits for more
    if (framing_error(parser.get()))
      return 0; // ambiguous length: the session answers 400 and closes
    check(used <= stream.size());
    stream.remove_prefix(used);

    auto req = parser.release();
    std::vector<dispatch_reply> replies;
    dispatch_for_test(be, options, req,
                      [&](dispatch_reply r) { replies.push_back(std::move(r)); });
    check(replies.size() == 1);
    check_reply(replies.front());
  }
  return 0;
}

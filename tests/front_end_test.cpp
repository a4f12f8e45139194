#include "app/http_api.hpp"
#include "app/http_dispatch.hpp"
#include "app/tcp_ingest.hpp"

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <future>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include <boost/asio/connect.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/read_until.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/value.hpp>
#include <doctest/doctest.h>

namespace {

using namespace std::chrono_literals;
namespace asio = boost::asio;
namespace http = boost::beast::http;
namespace json = boost::json;
using tcp = asio::ip::tcp;
using sys_error = boost::system::error_code;
using eventide::backend;
using eventide::chunk_result;
using eventide::error_code;
using eventide::failure;
using eventide::ingest_chunk;
using eventide::outcome;

/// Upper bound of every wait in this file: a broken server fails, not hangs.
constexpr auto timeout = 10s;

/// Waits until `pred` holds, polling; false after `timeout`.
template <class Pred>
bool eventually(Pred pred) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!pred()) {
    if (std::chrono::steady_clock::now() > deadline)
      return false;
    std::this_thread::sleep_for(1ms);
  }
  return true;
}

// -- fake backend
// ---------------------------------------------------------------

/// A backend that "applies" each non-blank line unless it contains "bad"
/// (missing_field) and fails whole chunks that contain "fail" (overloaded).
/// Results complete on its own thread, immediately, held until `release`,
/// or in reversed pairs to exercise reordering.
class fake_backend : public backend {
public:
  enum class mode { immediate, hold, reverse_pairs };

  fake_backend() : thread_([this] { run(); }) {
  }

  ~fake_backend() override {
    {
      std::lock_guard guard{mutex_};
      stop_ = true;
    }
    cv_.notify_all();
    thread_.join();
  }

  void set_mode(mode m) {
    std::lock_guard guard{mutex_};
    mode_ = m;
  }

  /// Completes every held result in order and stops holding.
  void release() {
    std::lock_guard guard{mutex_};
    mode_ = mode::immediate;
    for (auto& task : held_)
      tasks_.push_back(std::move(task));
    held_.clear();
    cv_.notify_all();
  }

  void put(const std::string& key, const std::string& record) {
    std::lock_guard guard{mutex_};
    records_[key] = record;
  }

  std::atomic<uint64_t> chunks_received{0};
  std::atomic<uint64_t> lines_received{0};
  std::atomic<bool> is_ready{true};

  class fake_channel : public channel {
  public:
    fake_channel(fake_backend& owner, result_handler handler)
      : owner_(owner), handler_(std::move(handler)) {
    }
    void submit(ingest_chunk chunk) override {
      owner_.lines_received += chunk.line_count;
      ++owner_.chunks_received;
      owner_.complete(handler_, evaluate(chunk));
    }

  private:
    fake_backend& owner_;
    result_handler handler_;
  };

  std::unique_ptr<channel> open_channel(result_handler on_result,
                                        std::string) override {
    return std::make_unique<fake_channel>(*this, std::move(on_result));
  }

  void post_events(ingest_chunk chunk, result_handler done) override {
    if (chunk.data.find("overload") != std::string::npos)
      return complete(done, failure{error_code::overloaded, "queue full"});
    complete(done, evaluate(chunk));
  }

  void get_key(
    std::string key,
    std::function<void(outcome<std::optional<std::string>>)> done) override {
    std::optional<std::string> record;
    {
      std::lock_guard guard{mutex_};
      if (auto it = records_.find(key); it != records_.end())
        record = it->second;
    }
    later([done, record] { done(record); });
  }

  void delete_key(std::string key,
                  std::function<void(outcome<bool>)> done) override {
    bool existed = false;
    {
      std::lock_guard guard{mutex_};
      existed = records_.erase(key) > 0;
    }
    later([done, existed] { done(existed); });
  }

  void stats(std::function<void(outcome<eventide::system_totals>)> done)
    override {
    eventide::system_totals t;
    t.node = "fake";
    t.accepted = 7;
    later([done, t] { done(t); });
  }

  void actors(std::function<void(outcome<std::vector<eventide::actor_info>>)>
                done) override {
    eventide::actor_info a;
    a.id = 3;
    a.name = "shard-0";
    a.kind = "shard";
    a.shard = 0;
    later([done, a] { done(std::vector<eventide::actor_info>{a}); });
  }

  void actor(uint64_t id,
             std::function<void(outcome<std::optional<eventide::actor_info>>)>
               done) override {
    std::optional<eventide::actor_info> found;
    if (id == 3) {
      found.emplace();
      found->id = 3;
      found->kind = "shard";
      found->detail = "{\"hot_keys\":[]}";
    }
    later([done, found] { done(found); });
  }

  void cluster_command(std::string, std::string node,
                       std::function<void(eventide::outcome<std::string>)> done)
    override {
    if (node == "ghost")
      return done(eventide::failure{eventide::error_code::internal, "no member named ghost"});
    done(std::string{"leaving"});
  }

  void cluster(std::function<void(outcome<eventide::cluster_view>)> done)
    override {
    eventide::cluster_view v;
    v.self = "fake";
    v.placement = {"fake", "fake"};
    later([done, v] { done(v); });
  }

  void open_tap(tap_request, tap_sink,
                std::function<void(outcome<std::shared_ptr<tap_handle>>)>
                  opened) override {
    later([opened] {
      opened(failure{error_code::unavailable, "the fake cannot tap"});
    });
  }

  void ready(std::function<void(outcome<bool>)> done) override {
    bool r = is_ready;
    later([done, r] { done(r); });
  }

private:
  /// The fake's "parse and apply" of one chunk.
  static outcome<chunk_result> evaluate(const ingest_chunk& chunk) {
    if (chunk.format == eventide::chunk_format::json_value)
      return evaluate_json(chunk);
    if (chunk.data.find("fail") != std::string::npos)
      return failure{error_code::overloaded, "shard busy"};
    chunk_result r;
    r.first_seq = chunk.first_seq;
    r.line_count = chunk.line_count;
    auto seq = chunk.first_seq;
    auto oversized = chunk.oversized.begin();
    auto skip_oversized = [&] {
      while (oversized != chunk.oversized.end() && *oversized == seq) {
        r.rejected.push_back({seq++, "", error_code::too_large, "too long"});
        ++oversized;
      }
    };
    std::size_t pos = 0;
    while (pos < chunk.data.size()) {
      skip_oversized();
      auto nl = chunk.data.find('\n', pos);
      auto end = nl == std::string::npos ? chunk.data.size() : nl;
      evaluate_line(std::string_view{chunk.data}.substr(pos, end - pos), seq++,
                    r);
      pos = end + 1;
    }
    skip_oversized();
    return r;
  }

  static void evaluate_line(std::string_view line, uint64_t seq,
                            chunk_result& r) {
    if (line.empty() || line == "\r")
      return;
    if (line.find("bad") != std::string_view::npos) {
      r.rejected.push_back({seq, "e-" + std::to_string(seq),
                            error_code::missing_field, "key is required"});
      return;
    }
    ++r.applied;
  }

  static outcome<chunk_result> evaluate_json(const ingest_chunk& chunk) {
    chunk_result r;
    r.first_seq = chunk.first_seq;
    if (chunk.data.empty() || (chunk.data[0] != '{' && chunk.data[0] != '[')) {
      r.not_json = true;
      r.not_json_detail = "syntax error at offset 0";
      return r;
    }
    r.line_count = 1;
    r.applied = 1;
    return r;
  }

  void complete(const result_handler& handler, outcome<chunk_result> r) {
    std::lock_guard guard{mutex_};
    auto task = [handler, r = std::move(r)] { handler(r); };
    if (mode_ == mode::immediate) {
      tasks_.push_back(std::move(task));
      cv_.notify_all();
      return;
    }
    held_.push_back(std::move(task));
    if (mode_ == mode::reverse_pairs && held_.size() == 2) {
      tasks_.push_back(std::move(held_[1]));
      tasks_.push_back(std::move(held_[0]));
      held_.clear();
      cv_.notify_all();
    }
  }

  void later(std::function<void()> task) {
    std::lock_guard guard{mutex_};
    tasks_.push_back(std::move(task));
    cv_.notify_all();
  }

  void run() {
    std::unique_lock lock{mutex_};
    for (;;) {
      cv_.wait(lock, [this] { return stop_ || !tasks_.empty(); });
      if (tasks_.empty())
        return;
      auto task = std::move(tasks_.front());
      tasks_.pop_front();
      lock.unlock();
      task();
      task = nullptr;
      lock.lock();
    }
  }

  std::mutex mutex_;
  std::condition_variable cv_;
  std::deque<std::function<void()>> tasks_;
  std::vector<std::function<void()>> held_;
  std::map<std::string, std::string> records_;
  mode mode_ = mode::immediate;
  bool stop_ = false;
  std::thread thread_;
};

// -- server fixture
// -------------------------------------------------------------

eventide::ingest_options default_ingest() {
  return {};
}

/// Both front ends on 127.0.0.1:0 over a fake backend, with an io_context
/// run by two threads (so strands matter).
struct server {
  explicit server(eventide::ingest_options ingest_opts = default_ingest(),
                  eventide::http_options http_opts = {})
    : ingest(io, {asio::ip::make_address("127.0.0.1"), 0}, be, ingest_opts),
      api(io, {asio::ip::make_address("127.0.0.1"), 0}, be, http_opts) {
    ingest.start();
    api.start();
    for (int i = 0; i < 2; ++i)
      threads.emplace_back([this] { io.run(); });
  }

  ~server() {
    be.release();
    CHECK(shutdown_ingest());
    CHECK(shutdown_http());
    work.reset();
    io.stop();
    for (auto& t : threads)
      t.join();
  }

  /// Shuts the TCP front end down; true when `done` ran in time.
  bool shutdown_ingest() {
    std::promise<void> done;
    auto f = done.get_future();
    ingest.shutdown([&done] { done.set_value(); });
    return f.wait_for(timeout) == std::future_status::ready;
  }

  bool shutdown_http() {
    std::promise<void> done;
    auto f = done.get_future();
    api.shutdown([&done] { done.set_value(); });
    return f.wait_for(timeout) == std::future_status::ready;
  }

  asio::io_context io;
  asio::executor_work_guard<asio::io_context::executor_type> work
    = asio::make_work_guard(io);
  fake_backend be;
  eventide::tcp_ingest ingest;
  eventide::http_api api;
  std::vector<std::thread> threads;
};

// -- blocking client with timeouts
// -------------------------------------------------

/// A client socket whose every operation gives up after `timeout`.
class client {
public:
  explicit client(const tcp::endpoint& endpoint) {
    auto ec
      = run([&](auto handler) { sock_.async_connect(endpoint, handler); });
    REQUIRE_MESSAGE(!ec, ec.message());
  }

  void send(std::string_view data) {
    auto ec = run([&](auto handler) {
      asio::async_write(sock_, asio::buffer(data),
                        [handler](sys_error e, std::size_t) { handler(e); });
    });
    REQUIRE_MESSAGE(!ec, ec.message());
  }

  void shutdown_send() {
    sock_.shutdown(tcp::socket::shutdown_send);
  }

  /// The next NDJSON line without '\n'; nullopt at EOF, error or timeout.
  std::optional<std::string> read_line() {
    auto ec = run([&](auto handler) {
      asio::async_read_until(
        sock_, asio::dynamic_buffer(lines_), '\n',
        [handler](sys_error e, std::size_t) { handler(e); });
    });
    if (ec)
      return std::nullopt;
    auto nl = lines_.find('\n');
    auto line = lines_.substr(0, nl);
    lines_.erase(0, nl + 1);
    return line;
  }

  /// True when the server closed the connection (EOF, nothing more).
  bool at_eof() {
    std::array<char, 256> buf{};
    std::size_t n = 0;
    auto ec = run([&](auto handler) {
      sock_.async_read_some(asio::buffer(buf),
                            [handler, &n](sys_error e, std::size_t got) {
                              n = got;
                              handler(e);
                            });
    });
    return lines_.empty() && n == 0
           && (ec == asio::error::eof || ec == asio::error::connection_reset);
  }

  /// The next HTTP response; status 0 on error or timeout.
  http::response<http::string_body> read_response() {
    http::response<http::string_body> res;
    auto ec = run([&](auto handler) {
      http::async_read(sock_, http_buffer_, res,
                       [handler](sys_error e, std::size_t) { handler(e); });
    });
    if (ec)
      return {};
    return res;
  }

private:
  template <class Start>
  sys_error run(Start start) {
    std::optional<sys_error> result;
    start([&result](sys_error ec) { result = ec; });
    io_.restart();
    io_.run_for(timeout);
    if (result)
      return *result;
    sock_.cancel();
    io_.restart();
    io_.run();
    return asio::error::timed_out;
  }

  asio::io_context io_;
  tcp::socket sock_{io_};
  std::string lines_;
  boost::beast::flat_buffer http_buffer_;
};

// -- NDJSON reply helpers
// ---------------------------------------------------------

/// The replies of a TCP session up to (and including) `{"ack":last}`.
struct replies {
  std::vector<json::object> errors;
  std::vector<uint64_t> acks;
  std::vector<std::string> order; // "e<seq>" or "a<n>" as they came
  bool complete = false;
};

replies read_until_ack(client& c, uint64_t last) {
  replies out;
  while (auto line = c.read_line()) {
    auto obj = json::parse(*line).as_object();
    if (auto* ack = obj.if_contains("ack")) {
      auto n = ack->to_number<uint64_t>();
      out.acks.push_back(n);
      out.order.push_back("a" + std::to_string(n));
      if (n >= last) {
        out.complete = n == last;
        return out;
      }
      continue;
    }
    out.order.push_back("e"
                        + std::to_string(obj.at("seq").to_number<uint64_t>()));
    out.errors.push_back(std::move(obj));
  }
  return out;
}

bool monotonic(const std::vector<uint64_t>& acks) {
  for (std::size_t i = 1; i < acks.size(); ++i)
    if (acks[i] <= acks[i - 1])
      return false;
  return true;
}

/// Every error line comes before the first ack that covers its seq.
bool errors_precede_acks(const replies& r) {
  uint64_t acked = 0;
  for (const auto& item : r.order) {
    auto n = std::stoull(item.substr(1));
    if (item[0] == 'a')
      acked = n;
    else if (n <= acked)
      return false;
  }
  return true;
}

std::string str(const json::value& v) {
  return std::string{v.as_string()};
}

// -- HTTP helpers
// -------------------------------------------------------------------

std::string request_text(std::string_view method, std::string_view target,
                         std::string_view body = {},
                         std::string_view content_type = {}) {
  std::string out{method};
  out += " ";
  out += target;
  out += " HTTP/1.1\r\nHost: test\r\n";
  if (!content_type.empty()) {
    out += "Content-Type: ";
    out += content_type;
    out += "\r\n";
  }
  if (!body.empty() || method == "POST")
    out += "Content-Length: " + std::to_string(body.size()) + "\r\n";
  out += "\r\n";
  out += body;
  return out;
}

http::response<http::string_body> round_trip(client& c, std::string_view text) {
  c.send(text);
  return c.read_response();
}

json::object body_of(const http::response<http::string_body>& res) {
  return json::parse(res.body()).as_object();
}

void check_json_headers(const http::response<http::string_body>& res) {
  CHECK(res[http::field::content_type] == "application/json");
  CHECK(res[http::field::content_length] == std::to_string(res.body().size()));
}

} // namespace

TEST_SUITE("front_end") {

  // -- TCP ingest
  // ---------------------------------------------------------------

  TEST_CASE(
    "a stream of lines gets error lines before the ack that covers them") {
    server s;
    client c{s.ingest.local_endpoint()};
    c.send("{\"ok\":1}\n{\"bad\":1}\n\n{\"ok\":2}\n");
    auto r = read_until_ack(c, 4);
    REQUIRE(r.complete);
    CHECK(monotonic(r.acks));
    CHECK(errors_precede_acks(r));
    REQUIRE(r.errors.size() == 1);
    CHECK(r.errors[0].at("seq").to_number<uint64_t>() == 2);
    CHECK(str(r.errors[0].at("id")) == "e-2");
    CHECK(str(r.errors[0].at("error")) == "missing_field");
    CHECK(str(r.errors[0].at("detail")) == "key is required");
  }

  TEST_CASE(
    "half-close brings the final ack, counting a last line without newline") {
    server s;
    client c{s.ingest.local_endpoint()};
    c.send("a\nb\nbad-last");
    c.shutdown_send();
    auto r = read_until_ack(c, 3);
    REQUIRE(r.complete);
    REQUIRE(r.errors.size() == 1);
    CHECK(r.errors[0].at("seq").to_number<uint64_t>() == 3);
    CHECK(c.at_eof());
    CHECK(eventually([&] { return s.ingest.stats().connections_open == 0; }));
    CHECK(s.ingest.stats().lines_acked == 3);
  }

  TEST_CASE("out-of-order backend completion still yields monotonic acks") {
    server s;
    s.be.set_mode(fake_backend::mode::reverse_pairs);
    client c{s.ingest.local_endpoint()};
    c.send("bad-1\nok\n");
    REQUIRE(eventually([&] { return s.be.chunks_received == 1; }));
    c.send("ok\nbad-4\n");
    auto r = read_until_ack(c, 4);
    REQUIRE(r.complete);
    CHECK(monotonic(r.acks));
    CHECK(errors_precede_acks(r));
    REQUIRE(r.errors.size() == 2);
    CHECK(r.errors[0].at("seq").to_number<uint64_t>() == 1);
    CHECK(r.errors[1].at("seq").to_number<uint64_t>() == 4);
  }

  TEST_CASE("a failed chunk reports each of its lines and is acknowledged") {
    server s;
    client c{s.ingest.local_endpoint()};
    c.send("fail\nx\n");
    auto r = read_until_ack(c, 2);
    REQUIRE(r.complete);
    REQUIRE(r.errors.size() == 2);
    for (uint64_t i = 0; i < 2; ++i) {
      CHECK(r.errors[i].at("seq").to_number<uint64_t>() == i + 1);
      CHECK(str(r.errors[i].at("error")) == "overloaded");
      CHECK_FALSE(r.errors[i].contains("id"));
    }
    CHECK(s.ingest.stats().chunks_failed == 1);
  }

  TEST_CASE("an oversized line is too_large and the connection stays usable") {
    eventide::ingest_options opts;
    opts.max_event_bytes = 64;
    opts.read_buffer_bytes = 50;
    server s{opts};
    client c{s.ingest.local_endpoint()};
    c.send("ok\n" + std::string(500, 'x') + "\nok\n");
    auto r = read_until_ack(c, 3);
    REQUIRE(r.complete);
    REQUIRE(r.errors.size() == 1);
    CHECK(r.errors[0].at("seq").to_number<uint64_t>() == 2);
    CHECK(str(r.errors[0].at("error")) == "too_large");
    c.send("bad\n");
    auto more = read_until_ack(c, 4);
    REQUIRE(more.complete);
    REQUIRE(more.errors.size() == 1);
    CHECK(more.errors[0].at("seq").to_number<uint64_t>() == 4);
  }

  TEST_CASE("a session stops reading beyond max-inflight and resumes on acks") {
    eventide::ingest_options opts;
    opts.max_inflight = 4;
    opts.read_buffer_bytes = 16;
    server s{opts};
    s.be.set_mode(fake_backend::mode::hold);
    client c{s.ingest.local_endpoint()};
    std::string input;
    for (int i = 0; i < 100; ++i)
      input += "{\"n\":" + std::to_string(100 + i) + "}\n"; // 10 bytes a line
    c.send(input);
    REQUIRE(eventually([&] { return s.be.lines_received > 4; }));
    // Asserting that nothing more happens needs a little time to pass.
    std::this_thread::sleep_for(100ms);
    auto stats = s.ingest.stats();
    CHECK(stats.lines_submitted <= 4 + 2); // max_inflight + one 16-byte read
    CHECK(stats.bytes_read < input.size());
    CHECK(stats.lines_acked == 0);
    s.be.release();
    auto r = read_until_ack(c, 100);
    REQUIRE(r.complete);
    CHECK(monotonic(r.acks));
    CHECK(r.errors.empty());
    CHECK(s.ingest.stats().lines_submitted == 100);
  }

  TEST_CASE("server shutdown acknowledges complete lines and closes") {
    server s;
    s.be.set_mode(fake_backend::mode::hold);
    client c{s.ingest.local_endpoint()};
    c.send("a\nb\npartial");
    REQUIRE(eventually([&] { return s.be.lines_received == 2; }));
    std::promise<void> done;
    s.ingest.shutdown([&done] { done.set_value(); });
    s.be.release();
    auto r = read_until_ack(c, 2);
    REQUIRE(r.complete);
    CHECK(c.at_eof());
    CHECK(done.get_future().wait_for(timeout) == std::future_status::ready);
    CHECK(s.ingest.stats().lines_submitted == 2);
  }

  TEST_CASE("binding a port in use throws a clear message") {
    server s;
    asio::io_context io;
    fake_backend be;
    CHECK_THROWS_WITH_AS(
      eventide::tcp_ingest(io, s.ingest.local_endpoint(), be),
      doctest::Contains("cannot bind"), std::runtime_error);
  }

  // -- HTTP API
  // -------------------------------------------------------------------

  TEST_CASE("POST NDJSON answers 200 with counts and errors indexed from 0") {
    server s;
    client c{s.api.local_endpoint()};
    auto res
      = round_trip(c, request_text("POST", "/v1/events", "ok\nbad\nok",
                                   "Application/X-NDJSON; charset=utf-8"));
    CHECK(res.result() == http::status::ok);
    check_json_headers(res);
    auto body = body_of(res);
    CHECK(body.at("accepted").to_number<uint64_t>() == 2);
    CHECK(body.at("duplicates").to_number<uint64_t>() == 0);
    CHECK(body.at("rejected").to_number<uint64_t>() == 1);
    auto& errors = body.at("errors").as_array();
    REQUIRE(errors.size() == 1);
    CHECK(errors[0].at("index").to_number<uint64_t>() == 1);
    CHECK(str(errors[0].at("id")) == "e-1");
    CHECK(str(errors[0].at("error")) == "missing_field");
  }

  TEST_CASE("POST JSON is accepted and a body that is not JSON is 400") {
    server s;
    client c{s.api.local_endpoint()};
    auto ok = round_trip(c, request_text("POST", "/v1/events", "{\"id\":\"1\"}",
                                         "application/json"));
    CHECK(ok.result() == http::status::ok);
    CHECK(body_of(ok).at("accepted").to_number<uint64_t>() == 1);
    auto bad = round_trip(
      c, request_text("POST", "/v1/events", "nope", "application/json"));
    CHECK(bad.result() == http::status::bad_request);
    check_json_headers(bad);
    CHECK(str(body_of(bad).at("error")) == "invalid_json");
  }

  TEST_CASE("POST with another or no content type is 415") {
    server s;
    client c{s.api.local_endpoint()};
    auto other
      = round_trip(c, request_text("POST", "/v1/events", "x", "text/plain"));
    CHECK(other.result() == http::status::unsupported_media_type);
    auto none = round_trip(c, request_text("POST", "/v1/events", "x"));
    CHECK(none.result() == http::status::unsupported_media_type);
    CHECK(body_of(none).contains("error"));
  }

  TEST_CASE("a body over max-body is 413, by Content-Length or while reading") {
    eventide::http_options opts;
    opts.max_body = 1024;
    server s{default_ingest(), opts};
    SUBCASE("declared length") {
      client c{s.api.local_endpoint()};
      c.send("POST /v1/events HTTP/1.1\r\nHost: t\r\nContent-Type: "
             "application/json\r\nContent-Length: 5000\r\n\r\n{");
      auto res = c.read_response();
      CHECK(res.result() == http::status::payload_too_large);
      CHECK(str(body_of(res).at("error")) == "too_large");
      CHECK_FALSE(res.keep_alive());
    }
    SUBCASE("chunked body") {
      client c{s.api.local_endpoint()};
      std::string chunk(2000, 'x');
      c.send("POST /v1/events HTTP/1.1\r\nHost: t\r\nContent-Type: "
             "application/json\r\nTransfer-Encoding: chunked\r\n\r\n7d0\r\n"
             + chunk + "\r\n0\r\n\r\n");
      auto res = c.read_response();
      CHECK(res.result() == http::status::payload_too_large);
      CHECK(c.at_eof());
    }
  }

  TEST_CASE("a backend overload is 503 and an unready backend fails /readyz") {
    server s;
    client c{s.api.local_endpoint()};
    auto res = round_trip(c, request_text("POST", "/v1/events", "overload\n",
                                          "application/x-ndjson"));
    CHECK(res.result() == http::status::service_unavailable);
    CHECK(str(body_of(res).at("error")) == "overloaded");
    auto ready = round_trip(c, request_text("GET", "/readyz"));
    CHECK(ready.result() == http::status::ok);
    CHECK(body_of(ready).at("ready").as_bool());
    s.be.is_ready = false;
    auto unready = round_trip(c, request_text("GET", "/readyz"));
    CHECK(unready.result() == http::status::service_unavailable);
    CHECK_FALSE(body_of(unready).at("ready").as_bool());
  }

  TEST_CASE("GET a key percent-decodes it and answers 200, 404 or 400") {
    server s;
    s.be.put("user:42 x", "{\"key\":\"user:42 x\",\"version\":1}");
    client c{s.api.local_endpoint()};
    auto found = round_trip(c, request_text("GET", "/v1/keys/user%3A42%20x"));
    CHECK(found.result() == http::status::ok);
    check_json_headers(found);
    CHECK(found.body() == "{\"key\":\"user:42 x\",\"version\":1}");
    auto absent = round_trip(c, request_text("GET", "/v1/keys/nobody?x=1"));
    CHECK(absent.result() == http::status::not_found);
    CHECK(str(body_of(absent).at("error")) == "not_found");
    auto bad = round_trip(c, request_text("GET", "/v1/keys/a%zz"));
    CHECK(bad.result() == http::status::bad_request);
    CHECK(str(body_of(bad).at("error")) == "bad_request");
    auto truncated = round_trip(c, request_text("GET", "/v1/keys/a%4"));
    CHECK(truncated.result() == http::status::bad_request);
    auto empty = round_trip(c, request_text("GET", "/v1/keys/"));
    CHECK(empty.result() == http::status::not_found);
  }

  TEST_CASE("DELETE a key answers deleted, then 404") {
    server s;
    s.be.put("k", "{}");
    client c{s.api.local_endpoint()};
    auto first = round_trip(c, request_text("DELETE", "/v1/keys/k"));
    CHECK(first.result() == http::status::ok);
    CHECK(body_of(first).at("deleted").as_bool());
    auto second = round_trip(c, request_text("DELETE", "/v1/keys/k"));
    CHECK(second.result() == http::status::not_found);
  }

  TEST_CASE("an unknown path is 404 and a wrong method is 405 with Allow") {
    server s;
    client c{s.api.local_endpoint()};
    auto unknown = round_trip(c, request_text("GET", "/nope"));
    CHECK(unknown.result() == http::status::not_found);
    CHECK(str(body_of(unknown).at("error")) == "not_found");
    auto wrong = round_trip(c, request_text("DELETE", "/v1/stats"));
    CHECK(wrong.result() == http::status::method_not_allowed);
    CHECK(wrong[http::field::allow] == "GET");
    CHECK(str(body_of(wrong).at("error")) == "method_not_allowed");
    auto keys = round_trip(
      c, request_text("POST", "/v1/keys/k", "{}", "application/json"));
    CHECK(keys.result() == http::status::method_not_allowed);
    CHECK(keys[http::field::allow] == "GET, DELETE");
  }

  TEST_CASE("stats and health answer 200 with JSON") {
    server s;
    client c{s.api.local_endpoint()};
    auto stats = round_trip(c, request_text("GET", "/v1/stats"));
    CHECK(stats.result() == http::status::ok);
    auto body = boost::json::parse(stats.body()).as_object();
    CHECK(body.at("accepted").as_int64() == 7);
    CHECK(body.at("node").as_string() == "fake");
    CHECK(body.at("ingest").as_object().contains("inflight_events"));
    auto health = round_trip(c, request_text("GET", "/healthz"));
    CHECK(health.result() == http::status::ok);
    CHECK(str(body_of(health).at("status")) == "ok");
  }

  TEST_CASE("malformed HTTP is 400 and the connection closes") {
    server s;
    client c{s.api.local_endpoint()};
    c.send("GARBAGE\r\n\r\n");
    auto res = c.read_response();
    CHECK(res.result() == http::status::bad_request);
    CHECK(str(body_of(res).at("error")) == "bad_request");
    CHECK(c.at_eof());
  }

  TEST_CASE("two requests share one keep-alive connection") {
    server s;
    client c{s.api.local_endpoint()};
    auto first = round_trip(c, request_text("GET", "/healthz"));
    CHECK(first.result() == http::status::ok);
    CHECK(first.keep_alive());
    auto second = round_trip(c, request_text("GET", "/v1/stats"));
    CHECK(second.result() == http::status::ok);
    CHECK(s.api.stats().connections_accepted == 1);
  }

  TEST_CASE("two pipelined requests in one write are answered in order") {
    server s;
    client c{s.api.local_endpoint()};
    c.send(request_text("GET", "/v1/keys/missing")
           + request_text("GET", "/healthz"));
    auto first = c.read_response();
    auto second = c.read_response();
    CHECK(first.result() == http::status::not_found);
    CHECK(second.result() == http::status::ok);
  }

  TEST_CASE("HTTP shutdown closes idle keep-alive connections") {
    server s;
    client c{s.api.local_endpoint()};
    auto res = round_trip(c, request_text("GET", "/healthz"));
    CHECK(res.result() == http::status::ok);
    CHECK(s.shutdown_http());
    CHECK(c.at_eof());
  }

  // Found by fuzz_http_request: details echoing request bytes (the path,
  // a percent-decoded key) were written out as invalid UTF-8, so the error
  // answer was not JSON.
  TEST_CASE("error answers stay valid JSON for non-UTF-8 request bytes") {
    fake_backend be;
    eventide::http_options options;
    for (std::string target :
         {"/\x99\x99/v1/tap", "/v1/keys/%ff%c3%28%ed%a0%80%f4%90%80%80"}) {
      CAPTURE(target);
      http::request<http::string_body> req{http::verb::get, target, 11};
      std::promise<eventide::dispatch_reply> answered;
      eventide::dispatch_for_test(be, options, req,
                                  [&](eventide::dispatch_reply r) {
                                    answered.set_value(std::move(r));
                                  });
      auto reply = answered.get_future();
      REQUIRE(reply.wait_for(timeout) == std::future_status::ready);
      auto r = reply.get();
      CHECK(r.status >= 400);
      sys_error ec;
      auto v = json::parse(r.body, ec);
      CHECK_MESSAGE(!ec, r.body);
      CHECK(v.is_object());
    }
  }


  // -- limits
  // -------------------------------------------------------------------

  TEST_CASE("ambiguous request framing is found in the header") {
    struct row {
      std::vector<std::pair<std::string, std::string>> fields;
      unsigned version;
      bool bad;
    };
    std::vector<row> rows{
      {{{"Content-Length", "5"}}, 11, false},
      {{{"Transfer-Encoding", "chunked"}}, 11, false},
      {{{"Transfer-Encoding", " Chunked "}}, 11, false},
      {{}, 11, false},
      {{{"Content-Length", "5"}, {"Content-Length", "5"}}, 11, true},
      {{{"Content-Length", "5"}, {"Content-Length", "6"}}, 11, true},
      {{{"Content-Length", "5, 5"}}, 11, true},
      {{{"Content-Length", "+5"}}, 11, true},
      {{{"Content-Length", "5"}, {"Transfer-Encoding", "chunked"}}, 11, true},
      {{{"Transfer-Encoding", "gzip"}}, 11, true},
      {{{"Transfer-Encoding", "gzip, chunked"}}, 11, true},
      {{{"Transfer-Encoding", "chunked, chunked"}}, 11, true},
      {{{"Transfer-Encoding", "chunked"}, {"Transfer-Encoding", "chunked"}},
       11,
       true},
      {{{"Transfer-Encoding", "chunked"}}, 10, true},
    };
    for (const auto& r : rows) {
      http::request_header<> h;
      h.version(r.version);
      std::string text;
      for (const auto& [name, value] : r.fields) {
        h.insert(name, value);
        text += name + ": " + value + "; ";
      }
      CAPTURE(text);
      CHECK(eventide::framing_error(h).has_value() == r.bad);
    }
  }

  TEST_CASE("a TCP connection over max-connections is told and closed") {
    auto opts = default_ingest();
    opts.max_connections = 1;
    server s{opts};
    client first{s.ingest.local_endpoint()};
    first.send("{\"ok\":1}\n");
    REQUIRE(read_until_ack(first, 1).complete);
    client second{s.ingest.local_endpoint()};
    auto line = second.read_line();
    REQUIRE(line);
    CHECK(*line
          == "{\"error\":\"overloaded\",\"detail\":\"too many "
             "connections (limit 1)\"}");
    CHECK(second.at_eof());
    CHECK(s.ingest.stats().connections_rejected == 1);
    first.shutdown_send();
    CHECK(first.at_eof());
    CHECK(eventually([&] { return s.ingest.stats().connections_open == 0; }));
    client third{s.ingest.local_endpoint()};
    third.send("{\"ok\":2}\n");
    CHECK(read_until_ack(third, 1).complete);
  }

  TEST_CASE("an HTTP connection over max-connections gets 503 and closes") {
    eventide::http_options opts;
    opts.max_connections = 1;
    server s{default_ingest(), opts};
    client first{s.api.local_endpoint()};
    CHECK(round_trip(first, request_text("GET", "/healthz")).result()
          == http::status::ok);
    client second{s.api.local_endpoint()};
    auto res = round_trip(second, request_text("GET", "/healthz"));
    CHECK(res.result() == http::status::service_unavailable);
    CHECK_FALSE(res.keep_alive());
    CHECK(str(body_of(res).at("error")) == "overloaded");
    CHECK(s.api.stats().connections_rejected == 1);
  }

  TEST_CASE("a TCP connection idle with nothing in flight is closed") {
    auto opts = default_ingest();
    opts.idle_timeout = 200ms;
    server s{opts};
    client c{s.ingest.local_endpoint()};
    c.send("{\"ok\":1}\n");
    REQUIRE(read_until_ack(c, 1).complete);
    CHECK(c.at_eof());
    CHECK(s.ingest.stats().connections_timed_out == 1);
  }

  TEST_CASE("the idle timeout spares a client waiting for its acks") {
    auto opts = default_ingest();
    opts.idle_timeout = 200ms;
    server s{opts};
    s.be.set_mode(fake_backend::mode::hold);
    client c{s.ingest.local_endpoint()};
    c.send("{\"ok\":1}\n");
    REQUIRE(eventually([&] { return s.be.lines_received == 1; }));
    std::this_thread::sleep_for(700ms);
    CHECK(s.ingest.stats().connections_timed_out == 0);
    s.be.release();
    CHECK(read_until_ack(c, 1).complete);
  }

  TEST_CASE("a session pauses on in-flight bytes, not only on lines") {
    auto opts = default_ingest();
    opts.max_inflight_bytes = 64;
    opts.read_buffer_bytes = 16;
    server s{opts};
    s.be.set_mode(fake_backend::mode::hold);
    client c{s.ingest.local_endpoint()};
    std::string input;
    for (int i = 0; i < 100; ++i)
      input += "{\"n\":" + std::to_string(100 + i) + "}\n"; // 10 bytes a line
    c.send(input);
    REQUIRE(eventually([&] { return s.be.lines_received > 6; }));
    std::this_thread::sleep_for(100ms);
    CHECK(s.ingest.stats().bytes_read <= 64 + 16 + 16);
    s.be.release();
    CHECK(read_until_ack(c, 100).complete);
  }

  TEST_CASE("a header over max-header-bytes is 431 and the connection closes") {
    eventide::http_options opts;
    opts.max_header_bytes = 1024;
    server s{default_ingest(), opts};
    client c{s.api.local_endpoint()};
    auto res = round_trip(c, "GET /healthz HTTP/1.1\r\nHost: t\r\nX-Big: "
                               + std::string(2000, 'x') + "\r\n\r\n");
    CHECK(res.result() == http::status::request_header_fields_too_large);
    CHECK(str(body_of(res).at("error")) == "too_large");
    CHECK(c.at_eof());
  }

  TEST_CASE("a request with Transfer-Encoding other than chunked is 400") {
    server s;
    client c{s.api.local_endpoint()};
    auto res = round_trip(c, "POST /v1/events HTTP/1.1\r\nHost: t\r\n"
                             "Content-Type: application/x-ndjson\r\n"
                             "Transfer-Encoding: gzip\r\n\r\n"
                             "GET /healthz HTTP/1.1\r\nHost: t\r\n\r\n");
    CHECK(res.result() == http::status::bad_request);
    CHECK(str(body_of(res).at("error")) == "bad_request");
    CHECK(c.at_eof());
  }
} // TEST_SUITE

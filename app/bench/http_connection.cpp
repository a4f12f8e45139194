#include "app/bench/http_connection.hpp"

#include <boost/beast/http/read.hpp>
#include <boost/beast/http/write.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/value.hpp>

#include "app/bench/json_util.hpp"

namespace eventide::bench {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace json = boost::json;
using boost::system::error_code;

namespace {

/// A non-negative integer member of `obj`, or nullopt.
std::optional<uint64_t> member_u64(const json::object& obj,
                                   std::string_view name) {
  return as_u64(obj.if_contains(name));
}

}  // namespace

http_connection::http_connection(asio::io_context& ioc,
                                 const connection_plan& plan,
                                 connection_result& result,
                                 uint32_t lines_per_chunk,
                                 const std::string& host)
  : chunk_streamer(ioc, plan, result, lines_per_chunk),
    stream_(ioc),
    errors_(plan, result) {
  req_.method(http::verb::post);
  req_.target("/v1/events");
  req_.version(11);
  req_.set(http::field::host, host);
  req_.set(http::field::content_type, "application/x-ndjson");
  req_.keep_alive(true);
  size_t largest = 0;
  for (size_t i = 0; i < plan.chunks.size(); ++i)
    largest = std::max(largest, plan.chunks[i].end - plan.chunk_begin(i));
  req_.body().reserve(largest);  // bodies are copied in without growing
}

error_code http_connection::connect(const asio::ip::tcp::endpoint& endpoint,
                                    const std::string& token) {
  if (!token.empty())
    req_.set(http::field::authorization, "Bearer " + token);
  error_code ec;
  stream_.socket().connect(endpoint, ec);
  if (!ec)
    stream_.socket().set_option(asio::ip::tcp::no_delay{true}, ec);
  return ec;
}

void http_connection::send_chunk(size_t i) {
  current_ = i;
  size_t begin = plan_.chunk_begin(i);
  req_.body().assign(plan_.bytes, begin, plan_.chunks[i].end - begin);
  req_.prepare_payload();
  stream_.expires_after(params_.drain_timeout);
  http::async_write(stream_, req_, [this](const error_code& ec, size_t) {
    on_write(ec);
  });
}

void http_connection::on_write(const error_code& ec) {
  if (ec) {
    fault("POST write: " + ec.message());
    stop_sending();
    return schedule_next();
  }
  res_ = {};
  http::async_read(stream_, buffer_, res_,
                   [this](const error_code& e, size_t) { on_read(e); });
}

void http_connection::on_read(const error_code& ec) {
  if (ec) {
    fault("POST read: " + ec.message());
    stop_sending();
    return schedule_next();
  }
  check_answer(current_);
  if (!res_.keep_alive()) {
    fault("server closed the keep-alive connection");
    stop_sending();
    return schedule_next();
  }
  chunk_sent(plan_.chunks[current_].end - plan_.chunk_begin(current_));
}

void http_connection::check_answer(size_t i) {
  auto now = bench_clock::now();
  if (res_.result() != http::status::ok)
    return fault("POST: HTTP " + std::to_string(res_.result_int()) + " "
                 + res_.body().substr(0, 200));
  json::error_code ec;
  auto v = json::parse(res_.body(), ec);
  auto* obj = ec ? nullptr : v.if_object();
  if (obj == nullptr)
    return fault("POST: unreadable answer " + res_.body().substr(0, 200));
  uint64_t lines = plan_.chunks[i].last_seq - plan_.chunk_first_seq(i) + 1;
  auto accepted = member_u64(*obj, "accepted").value_or(0);
  auto duplicates = member_u64(*obj, "duplicates").value_or(0);
  auto rejected = member_u64(*obj, "rejected").value_or(0);
  if (accepted + duplicates + rejected != lines)
    fault("POST: answer covers " + std::to_string(accepted + duplicates
                                                  + rejected)
          + " of " + std::to_string(lines) + " events");
  result_.http_accepted += accepted;
  result_.duplicates += duplicates;
  count_errors(*obj, i);
  record_ack(plan_.chunks[i].last_seq, now);
}

void http_connection::count_errors(const json::object& answer, size_t i) {
  const auto* errors = answer.if_contains("errors");
  if (errors == nullptr || !errors->is_array())
    return fault("POST: answer without an errors array");
  uint64_t first_seq = plan_.chunk_first_seq(i);
  for (const auto& e : errors->get_array()) {
    const auto* obj = e.if_object();
    auto index = obj ? member_u64(*obj, "index") : std::nullopt;
    const auto* code = obj ? obj->if_contains("error") : nullptr;
    if (!index || code == nullptr || !code->is_string()) {
      fault("POST: malformed entry in errors");
      continue;
    }
    std::string_view code_text = code->get_string();
    errors_.on_error(first_seq + *index, code_text);
  }
}

void http_connection::end_of_plan() {
  error_code ignored;
  stream_.socket().shutdown(asio::ip::tcp::socket::shutdown_both, ignored);
  stream_.socket().close(ignored);
  result_.finished = bench_clock::now();
  result_.closed_cleanly = true;
  result_.done.store(true);
}

}  // namespace eventide::bench

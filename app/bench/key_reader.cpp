#include "app/bench/key_reader.hpp"

#include <cctype>

#include <boost/beast/http/empty_body.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>

namespace eventide::bench {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace json = boost::json;
using boost::system::error_code;

namespace {

/// fields.n of a record body; 0 when absent.
key_counter counter_from_record(const std::string& body) {
  json::error_code ec;
  auto v = json::parse(body, ec);
  const auto* obj = ec ? nullptr : v.if_object();
  const auto* fields = obj ? obj->if_contains("fields") : nullptr;
  if (fields == nullptr || !fields->is_object())
    return {false, 0, "record without fields: " + body.substr(0, 200)};
  const auto* n = fields->get_object().if_contains("n");
  if (n == nullptr)
    return {true, 0, {}};
  if (n->is_int64())
    return {true, n->get_int64(), {}};
  if (n->is_uint64())
    return {true, static_cast<int64_t>(n->get_uint64()), {}};
  return {false, 0, "fields.n is not an integer: " + json::serialize(*n)};
}

}  // namespace

std::string percent_encode(std::string_view text) {
  static constexpr char hex[] = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : text) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += hex[c >> 4];
      out += hex[c & 15];
    }
  }
  return out;
}

key_reader::key_reader(asio::ip::tcp::endpoint endpoint, std::string host,
                       std::chrono::milliseconds timeout)
  : endpoint_(endpoint), host_(std::move(host)), timeout_(timeout) {
}

key_counter key_reader::read_counter(std::string_view key) {
  auto target = "/v1/keys/" + percent_encode(key);
  auto result = try_read(target);
  if (!result.ok && !connected_)  // a closed keep-alive: one fresh try
    result = try_read(target);
  return result;
}

key_counter key_reader::try_read(const std::string& target) {
  unsigned status = 0;
  std::string body;
  if (auto ec = round_trip(target, status, body)) {
    connected_ = false;
    stream_.close();
    return {false, 0, "GET " + target + ": " + ec.message()};
  }
  if (status == 404)
    return {true, 0, {}};
  if (status != 200)
    return {false, 0, "GET " + target + ": HTTP " + std::to_string(status)};
  return counter_from_record(body);
}

error_code key_reader::ensure_connected() {
  if (connected_)
    return {};
  error_code ec;
  stream_.socket().connect(endpoint_, ec);
  connected_ = !ec;
  return ec;
}

// Async operations driven to completion here, for the stream's timeout.
error_code key_reader::round_trip(const std::string& target,
                                  unsigned& status, std::string& body) {
  if (auto ec = ensure_connected())
    return ec;
  http::request<http::empty_body> req{http::verb::get, target, 11};
  req.set(http::field::host, host_);
  if (!token_.empty())
    req.set(http::field::authorization, "Bearer " + token_);
  req.keep_alive(true);
  http::response<http::string_body> res;
  error_code result;
  stream_.expires_after(timeout_);
  http::async_write(stream_, req, [&](error_code ec, size_t) {
    if (ec) {
      result = ec;
      return;
    }
    http::async_read(stream_, buffer_, res,
                     [&](error_code e, size_t) { result = e; });
  });
  ioc_.restart();
  ioc_.run();
  if (result)
    return result;
  status = res.result_int();
  body = std::move(res.body());
  if (!res.keep_alive()) {
    connected_ = false;
    stream_.close();
  }
  return {};
}

}  // namespace eventide::bench

#pragma once

#include <chrono>
#include <functional>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>

#include <boost/asio/io_context.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/verb.hpp>

namespace eventide::ctl {

/// The server could not be reached, or the connection broke mid-answer.
class transport_error : public std::runtime_error {
public:
  using std::runtime_error::runtime_error;
};

/// The user pressed Ctrl-C while a request was in flight.
class interrupted_error : public std::runtime_error {
public:
  interrupted_error() : std::runtime_error("interrupted") {
  }
};

/// One HTTP answer.
struct http_response {
  unsigned status = 0;
  std::string body;
};

/// A small synchronous HTTP/1.1 client on one keep-alive connection.
///
/// Every operation runs the asynchronous Beast call on a private
/// io_context in 100 ms slices and checks the Ctrl-C flag in between, so
/// a slow server or an endless stream (tap) can always be interrupted.
class http_client {
public:
  http_client(std::string host, std::string port);

  /// One request; throws transport_error or interrupted_error.
  http_response request(boost::beast::http::verb method,
                        std::string_view target, std::string body = {},
                        std::string_view content_type = {});

  http_response get(std::string_view target) {
    return request(boost::beast::http::verb::get, target);
  }

  /// A GET whose body is a stream of lines: calls `on_line` for each line
  /// (without '\n') until the server ends the body or `on_line` returns
  /// false. A non-200 answer is returned whole without calling `on_line`.
  /// On Ctrl-C returns what came so far; the connection is closed after.
  http_response stream_lines(std::string_view target,
                             const std::function<bool(std::string_view)>&
                               on_line);

  /// Sends `Authorization: Bearer TOKEN` with every request (empty: none).
  void set_token(std::string token) {
    token_ = std::move(token);
  }

  /// "HOST:PORT" as given.
  const std::string& address() const {
    return address_;
  }

private:
  void connect();
  void close();
  boost::beast::http::request<boost::beast::http::string_body>
  make_request(boost::beast::http::verb method, std::string_view target,
               std::string body, std::string_view content_type) const;
  http_response exchange(
    const boost::beast::http::request<boost::beast::http::string_body>& req);

  /// Starts one asynchronous operation, `start(handler)`, and runs the
  /// io_context until it completes, cancelling it on Ctrl-C. Returns its
  /// error; throws interrupted_error (closing the connection) on Ctrl-C.
  template <class Start>
  boost::system::error_code await(Start&& start);
  void write_request(
    const boost::beast::http::request<boost::beast::http::string_body>& req);
  void read_lines(
    boost::beast::http::response_parser<boost::beast::http::string_body>& p,
    const std::function<bool(std::string_view)>& on_line);
  [[noreturn]] void fail(std::string_view what,
                         const boost::system::error_code& ec);

  std::string host_;
  std::string port_;
  std::string address_;
  std::string token_;
  boost::asio::io_context ioc_;
  boost::beast::tcp_stream stream_;
  boost::beast::flat_buffer buffer_;
  bool open_ = false;
  std::chrono::seconds timeout_{60};
};

/// Percent-encodes everything but RFC 3986 unreserved characters.
std::string percent_encode(std::string_view text);

} // namespace eventide::ctl

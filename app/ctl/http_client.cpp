#include "app/ctl/http_client.hpp"

#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>

#include "app/ctl/terminal.hpp"

namespace eventide::ctl {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using asio::ip::tcp;
using boost::system::error_code;

namespace {

/// A failure of a reused keep-alive connection that the server may have
/// closed while idle; such a request is sent again once on a new one.
bool stale_connection(const error_code& ec) {
  return ec == http::error::end_of_stream || ec == asio::error::eof
         || ec == asio::error::connection_reset
         || ec == asio::error::broken_pipe;
}

} // namespace

http_client::http_client(std::string host, std::string port)
  : host_(std::move(host)),
    port_(std::move(port)),
    address_(host_.find(':') != std::string::npos
               ? "[" + host_ + "]:" + port_
               : host_ + ":" + port_),
    stream_(ioc_) {
}

template <class Start>
error_code http_client::await(Start&& start) {
  error_code ec;
  bool done = false;
  start([&](const error_code& e, auto&&...) {
    ec = e;
    done = true;
  });
  bool cancelled = false;
  while (!done) {
    ioc_.restart();
    ioc_.run_for(std::chrono::milliseconds{100});
    if (!done && !cancelled && interrupted()) {
      stream_.cancel();
      cancelled = true;
    }
  }
  if (cancelled || interrupted()) {
    close();
    throw interrupted_error{};
  }
  return ec;
}

void http_client::fail(std::string_view what, const error_code& ec) {
  close();
  throw transport_error(std::string{what} + ": " + ec.message());
}

void http_client::close() {
  error_code ignored;
  stream_.socket().shutdown(tcp::socket::shutdown_both, ignored);
  stream_.socket().close(ignored);
  buffer_.clear();
  open_ = false;
}

void http_client::connect() {
  tcp::resolver resolver{ioc_};
  error_code ec;
  auto endpoints = resolver.resolve(host_, port_, ec);
  if (ec)
    throw transport_error("cannot resolve " + host_ + ": " + ec.message());
  stream_.expires_after(std::chrono::seconds{10});
  ec = await([&](auto handler) { stream_.async_connect(endpoints, handler); });
  if (ec)
    fail("connect", ec);
  stream_.socket().set_option(tcp::no_delay{true}, ec);
  open_ = true;
}

http::request<http::string_body>
http_client::make_request(http::verb method, std::string_view target,
                          std::string body,
                          std::string_view content_type) const {
  http::request<http::string_body> req{method, target, 11};
  req.set(http::field::host, address_);
  req.set(http::field::user_agent, "eventide-ctl");
  if (!token_.empty())
    req.set(http::field::authorization, "Bearer " + token_);
  req.keep_alive(true);
  if (!content_type.empty())
    req.set(http::field::content_type, content_type);
  req.body() = std::move(body);
  req.prepare_payload();
  return req;
}

http_response http_client::request(http::verb method, std::string_view target,
                                   std::string body,
                                   std::string_view content_type) {
  auto req = make_request(method, target, std::move(body), content_type);
  for (int attempt = 0;; ++attempt) {
    bool reused = open_;
    if (!open_)
      connect();
    try {
      return exchange(req);
    } catch (const transport_error&) {
      // Retrying is safe even for POST: the server de-duplicates by id.
      if (!reused || attempt > 0)
        throw;
    }
  }
}

void http_client::write_request(const http::request<http::string_body>& req) {
  stream_.expires_after(timeout_);
  auto ec = await([&](auto handler) {
    http::async_write(stream_, req, handler);
  });
  if (stale_connection(ec)) {
    close();
    throw transport_error("the server closed the connection");
  }
  if (ec)
    fail("request", ec);
}

http_response http_client::exchange(const http::request<http::string_body>& req) {
  write_request(req);
  http::response_parser<http::string_body> parser;
  parser.body_limit(boost::none);
  auto ec = await([&](auto handler) {
    http::async_read(stream_, buffer_, parser, handler);
  });
  if (stale_connection(ec)) {
    close();
    throw transport_error("the server closed the connection");
  }
  if (ec)
    fail(ec == beast::error::timeout ? "no answer" : "reading the answer", ec);
  auto res = parser.release();
  if (!res.keep_alive())
    close();
  return {res.result_int(), std::move(res.body())};
}

http_response http_client::stream_lines(
  std::string_view target,
  const std::function<bool(std::string_view)>& on_line) {
  if (!open_)
    connect();
  write_request(make_request(http::verb::get, target, {}, {}));
  http::response_parser<http::string_body> parser;
  parser.body_limit(boost::none);
  http_response head;
  try {
    auto ec = await([&](auto handler) {
      http::async_read_header(stream_, buffer_, parser, handler);
    });
    if (ec)
      fail("reading the answer", ec);
    head.status = parser.get().result_int();
    if (head.status != 200) {
      ec = await([&](auto handler) {
        http::async_read(stream_, buffer_, parser, handler);
      });
      head.body = parser.get().body();
    } else {
      read_lines(parser, on_line);
    }
  } catch (const interrupted_error&) {
    // Ctrl-C is how a stream normally ends.
  }
  close();  // the stream cannot be reused for another request
  return head;
}

void http_client::read_lines(http::response_parser<http::string_body>& parser,
                             const std::function<bool(std::string_view)>&
                               on_line) {
  // An open stream may stay silent for long (the server sends heartbeats).
  stream_.expires_never();
  bool more = true;
  while (more && !parser.is_done()) {
    auto ec = await([&](auto handler) {
      http::async_read_some(stream_, buffer_, parser, handler);
    });
    if (ec)
      fail("the stream broke", ec);
    auto& body = parser.get().body();
    size_t begin = 0;
    for (auto nl = body.find('\n'); more && nl != std::string::npos;
         nl = body.find('\n', begin)) {
      more = on_line(std::string_view{body}.substr(begin, nl - begin));
      begin = nl + 1;
    }
    body.erase(0, begin);
  }
}

std::string percent_encode(std::string_view text) {
  static constexpr char hex[] = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : text) {
    bool plain = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z')
                 || (c >= '0' && c <= '9') || c == '-' || c == '.'
                 || c == '_' || c == '~';
    if (plain) {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += hex[c >> 4];
      out += hex[c & 15];
    }
  }
  return out;
}

} // namespace eventide::ctl

#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>

namespace eventide::bench {

/// The counter "n" of one key as the server reports it.
struct key_counter {
  bool ok = false;    // false: the read failed, see `error`
  int64_t n = 0;      // 0 when the key or its "n" is absent
  std::string error;
};

/// Reads records over one keep-alive HTTP connection, with a timeout per
/// request; reconnects once when the server has closed it.
class key_reader {
public:
  key_reader(boost::asio::ip::tcp::endpoint endpoint, std::string host,
             std::chrono::milliseconds timeout);

  /// Sends `Authorization: Bearer TOKEN` (empty: no header).
  void set_token(std::string token) {
    token_ = std::move(token);
  }

  /// GET /v1/keys/{key} and extract fields.n.
  key_counter read_counter(std::string_view key);

private:
  key_counter try_read(const std::string& target);
  boost::system::error_code ensure_connected();
  boost::system::error_code round_trip(const std::string& target,
                                       unsigned& status, std::string& body);

  boost::asio::io_context ioc_{1};
  boost::asio::ip::tcp::endpoint endpoint_;
  std::string token_;
  std::string host_;
  std::chrono::milliseconds timeout_;
  boost::beast::tcp_stream stream_{ioc_};
  boost::beast::flat_buffer buffer_;
  bool connected_ = false;
};

/// "k:42" -> "k%3A42": every byte but unreserved ones percent-encoded.
std::string percent_encode(std::string_view text);

}  // namespace eventide::bench

#pragma once

#include <string>

#include <boost/asio/ip/tcp.hpp>
#include <boost/json/object.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>

#include "app/bench/chunk_streamer.hpp"

namespace eventide::bench {

/// Streams one plan as NDJSON POSTs on one keep-alive HTTP connection, one
/// request in flight; the response to a batch is its ack.
class http_connection final : public chunk_streamer {
public:
  http_connection(boost::asio::io_context& ioc, const connection_plan& plan,
                  connection_result& result, uint32_t lines_per_chunk,
                  const std::string& host);

  /// Connects synchronously, before the clock starts; a token is sent as
  /// `Authorization: Bearer TOKEN` with every request.
  boost::system::error_code
  connect(const boost::asio::ip::tcp::endpoint& endpoint,
          const std::string& token);

private:
  void send_chunk(size_t i) override;
  void end_of_plan() override;

  void on_write(const boost::system::error_code& ec);
  void on_read(const boost::system::error_code& ec);
  void check_answer(size_t i);
  void count_errors(const boost::json::object& answer, size_t i);

  boost::beast::tcp_stream stream_;
  boost::beast::flat_buffer buffer_;
  boost::beast::http::request<boost::beast::http::string_body> req_;
  boost::beast::http::response<boost::beast::http::string_body> res_;
  error_matcher errors_;
  size_t current_ = 0;
};

}  // namespace eventide::bench

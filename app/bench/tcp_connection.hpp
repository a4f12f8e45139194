#pragma once

#include <string>
#include <string_view>
#include <vector>

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>

#include "app/bench/chunk_streamer.hpp"

namespace eventide::bench {

/// Streams one plan over a TCP ingest connection. Writing and reading are
/// two independent async chains on the same thread: the writer never waits
/// for acks, because the server stops reading at max-inflight unacked lines
/// and would otherwise deadlock with us.
class tcp_connection final : public chunk_streamer {
public:
  tcp_connection(boost::asio::io_context& ioc, const connection_plan& plan,
                 connection_result& result, uint32_t lines_per_chunk);

  /// Connects synchronously, before the clock starts; with a token, sends
  /// the auth line `{"auth":"TOKEN"}` first (it takes no sequence number).
  boost::system::error_code
  connect(const boost::asio::ip::tcp::endpoint& endpoint,
          const std::string& token);

private:
  void on_start() override;
  void send_chunk(size_t i) override;
  void end_of_plan() override;

  void on_write(const boost::system::error_code& ec, size_t bytes);
  void do_read();
  void on_read(const boost::system::error_code& ec, size_t bytes);
  void consume_lines();
  void handle_line(std::string_view line);
  void handle_json_line(std::string_view line);
  void on_ack(uint64_t seq);
  void on_drain_timeout(const boost::system::error_code& ec);
  void close_read_side();
  void maybe_done();

  boost::asio::ip::tcp::socket socket_;
  boost::asio::steady_timer drain_timer_;
  error_matcher errors_;
  std::vector<char> rbuf_;
  size_t rend_ = 0;
  uint64_t last_ack_ = 0;
  bool write_failed_ = false;
  bool write_side_done_ = false;
  bool read_side_done_ = false;
};

}  // namespace eventide::bench

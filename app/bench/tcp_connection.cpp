#include "app/bench/tcp_connection.hpp"

#include <charconv>
#include <cstring>

#include <boost/asio/buffer.hpp>
#include <boost/asio/write.hpp>
#include <boost/json/monotonic_resource.hpp>
#include <boost/json/object.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/value.hpp>

#include "app/bench/json_util.hpp"

namespace eventide::bench {

namespace asio = boost::asio;
namespace json = boost::json;
using boost::system::error_code;

namespace {

constexpr size_t initial_read_buffer = 64 * 1024;

/// Parses the whole of `text` as an unsigned integer.
std::optional<uint64_t> parse_u64(std::string_view text) {
  uint64_t v = 0;
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc{} || ptr != text.data() + text.size())
    return std::nullopt;
  return v;
}

}  // namespace

tcp_connection::tcp_connection(asio::io_context& ioc,
                               const connection_plan& plan,
                               connection_result& result,
                               uint32_t lines_per_chunk)
  : chunk_streamer(ioc, plan, result, lines_per_chunk),
    socket_(ioc),
    drain_timer_(ioc),
    errors_(plan, result),
    rbuf_(initial_read_buffer) {
}

error_code tcp_connection::connect(const asio::ip::tcp::endpoint& endpoint,
                                   const std::string& token) {
  error_code ec;
  socket_.connect(endpoint, ec);
  if (!ec)
    socket_.set_option(asio::ip::tcp::no_delay{true}, ec);
  if (!ec && !token.empty()) {
    auto line = json::serialize(json::object{{"auth", token}}) + "\n";
    asio::write(socket_, asio::buffer(line), ec);
  }
  return ec;
}

void tcp_connection::on_start() {
  do_read();
}

void tcp_connection::send_chunk(size_t i) {
  size_t begin = plan_.chunk_begin(i);
  asio::async_write(
    socket_,
    asio::buffer(plan_.bytes.data() + begin, plan_.chunks[i].end - begin),
    [this](const error_code& ec, size_t n) { on_write(ec, n); });
}

void tcp_connection::on_write(const error_code& ec, size_t bytes) {
  if (!ec)
    return chunk_sent(bytes);
  if (!read_side_done_)
    fault("write: " + ec.message());
  write_failed_ = true;
  stop_sending();
  schedule_next();
}

// Half-close: the server answers with the final ack and closes (DESIGN §4).
void tcp_connection::end_of_plan() {
  write_side_done_ = true;
  if (read_side_done_)
    return maybe_done();
  error_code ec;
  socket_.shutdown(asio::ip::tcp::socket::shutdown_send, ec);
  if (ec && !write_failed_)
    fault("shutdown(send): " + ec.message());
  drain_timer_.expires_after(params_.drain_timeout);
  drain_timer_.async_wait([this](const error_code& e) {
    on_drain_timeout(e);
  });
}

void tcp_connection::on_drain_timeout(const error_code& ec) {
  if (ec || read_side_done_)
    return;
  fault("no final ack and close within the drain timeout (acked "
        + std::to_string(last_ack_) + " of "
        + std::to_string(last_seq_issued()) + " lines)");
  error_code ignored;
  socket_.close(ignored);
}

void tcp_connection::do_read() {
  if (rend_ == rbuf_.size())
    rbuf_.resize(rbuf_.size() * 2);  // only for an absurdly long line
  socket_.async_read_some(
    asio::buffer(rbuf_.data() + rend_, rbuf_.size() - rend_),
    [this](const error_code& ec, size_t n) { on_read(ec, n); });
}

void tcp_connection::on_read(const error_code& ec, size_t bytes) {
  if (!ec) {
    rend_ += bytes;
    consume_lines();
    return do_read();
  }
  if (ec == asio::error::eof) {
    if (rend_ > 0)
      handle_line({rbuf_.data(), rend_});
    if (!write_side_done_)
      fault("server closed the connection before the client finished");
    result_.closed_cleanly = write_side_done_;
  } else if (ec != asio::error::operation_aborted) {
    fault("read: " + ec.message());
  }
  close_read_side();
}

void tcp_connection::consume_lines() {
  size_t pos = 0;
  while (pos < rend_) {
    auto* start = rbuf_.data() + pos;
    auto* nl = static_cast<char*>(std::memchr(start, '\n', rend_ - pos));
    if (nl == nullptr)
      break;
    handle_line({start, static_cast<size_t>(nl - start)});
    pos = static_cast<size_t>(nl - rbuf_.data()) + 1;
  }
  std::memmove(rbuf_.data(), rbuf_.data() + pos, rend_ - pos);
  rend_ -= pos;
}

void tcp_connection::handle_line(std::string_view line) {
  if (!line.empty() && line.back() == '\r')
    line.remove_suffix(1);
  if (line.empty())
    return;
  constexpr std::string_view ack_prefix = "{\"ack\":";
  if (line.starts_with(ack_prefix) && line.back() == '}') {
    auto digits = line.substr(ack_prefix.size());
    digits.remove_suffix(1);
    if (auto seq = parse_u64(digits))
      return on_ack(*seq);
  }
  handle_json_line(line);
}

void tcp_connection::handle_json_line(std::string_view line) {
  unsigned char storage[4096];  // error lines parse without the heap
  json::monotonic_resource mr(storage, sizeof storage);
  json::error_code ec;
  auto v = json::parse(line, ec, &mr);
  auto* obj = ec ? nullptr : v.if_object();
  if (obj == nullptr)
    return fault("unreadable line from server: "
                 + std::string{line.substr(0, 200)});
  if (obj->contains("ack")) {
    if (auto seq = as_u64(obj->if_contains("ack")))
      return on_ack(*seq);
    return fault("bad ack: " + std::string{line.substr(0, 200)});
  }
  auto* code = obj->if_contains("error");
  if (code == nullptr || !code->is_string())
    return fault("unexpected line from server: "
                 + std::string{line.substr(0, 200)});
  auto seq = as_u64(obj->if_contains("seq"));
  std::string_view code_text = code->get_string();
  if (!seq && (code_text == "unauthorized" || code_text == "forbidden"))
    return fault("server refused the connection (see --token): "
                 + std::string{line.substr(0, 200)});
  errors_.on_error(seq.value_or(0), code_text);
}

void tcp_connection::on_ack(uint64_t seq) {
  if (seq < last_ack_)
    return fault("ack went backwards: " + std::to_string(seq) + " after "
                 + std::to_string(last_ack_));
  if (seq > last_seq_issued())
    fault("ack " + std::to_string(seq) + " beyond the "
          + std::to_string(last_seq_issued()) + " lines written");
  last_ack_ = seq;
  record_ack(seq, bench_clock::now());
}

void tcp_connection::close_read_side() {
  read_side_done_ = true;
  result_.finished = bench_clock::now();
  drain_timer_.cancel();
  if (write_side_done_)
    return maybe_done();
  stop_sending();  // the pending write or timer ends and calls end_of_plan
  error_code ignored;
  socket_.close(ignored);
}

void tcp_connection::maybe_done() {
  if (!write_side_done_ || !read_side_done_ || result_.done.load())
    return;
  error_code ignored;
  socket_.close(ignored);
  result_.done.store(true);
}

}  // namespace eventide::bench

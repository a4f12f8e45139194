#include "app/tcp_ingest.hpp"

// Backpressure and ordering in one session (DESIGN.md §1, §4):
// every read is cut into lines and submitted as one chunk through the
// session's own backend channel. Results may come back in any order; they are
// kept by first_seq and only the contiguous completed prefix is answered:
// its error lines first, then one cumulative {"ack":N}. Reading pauses while
// more than max_inflight lines are unacknowledged or the reply queue is over
// its byte bound, and resumes when acks (or finished writes) bring it down,
// so TCP flow control throttles a client that sends faster than we apply.
//
// Idle timeout (limits.idle-timeout-ms): a connection is idle when nothing
// was read, written or answered by the engine for that long. With nothing
// in flight it is closed like at shutdown (its final ack went out already);
// with results still due it is left alone (the engine answers every chunk);
// with a write that made no progress (the client does not read its acks)
// it is dropped, since its replies can never be delivered.

#include <atomic>
#include <cstring>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/write.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include "app/latency_histogram.hpp"
#include "app/line_framer.hpp"
#include "app/listener.hpp"

namespace eventide {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;
using sys_error = boost::system::error_code;

namespace {

class session;

/// Time a closing session waits for the client to close after the final
/// ack, so that unread input does not reset the connection under the ack.
constexpr auto drain_grace = std::chrono::seconds(2);

/// Counters of the sessions (the listener keeps the connection counters).
struct atomic_stats {
  std::atomic<uint64_t> bytes_read{0};
  std::atomic<uint64_t> lines_submitted{0};
  std::atomic<uint64_t> lines_acked{0};
  std::atomic<uint64_t> chunks_failed{0};
  std::atomic<uint64_t> client_errors{0};
  std::atomic<uint64_t> timed_out{0};
};

/// Appends `{"seq":S,"id":…,"error":…,"detail":…}\n` (id omitted when empty).
void append_error_line(std::string& out, uint64_t seq, std::string_view id,
                       error_code code, std::string_view detail) {
  out += "{\"seq\":";
  out += std::to_string(seq);
  if (!id.empty()) {
    out += ",\"id\":";
    out += boost::json::serialize(boost::json::string_view{id});
  }
  out += ",\"error\":\"";
  out += to_string(code);
  out += "\",\"detail\":";
  out += boost::json::serialize(boost::json::string_view{detail});
  out += "}\n";
}

/// The longest first line a session waits for while authentication is on.
constexpr std::size_t max_auth_line = 4096;

/// The token of an auth line `{"auth":"TOKEN"}` (nothing else in it), or
/// nullopt when the line is anything else.
std::optional<std::string> auth_line_token(std::string_view line) {
  boost::system::error_code ec;
  auto v = boost::json::parse(line, ec);
  if (ec || !v.is_object() || v.get_object().size() != 1)
    return std::nullopt;
  const auto* t = v.get_object().if_contains("auth");
  if (t == nullptr || !t->is_string())
    return std::nullopt;
  const auto& s = t->get_string();
  return std::string{s.data(), s.size()};
}

} // namespace

namespace {

/// The line a connection over limits.max-connections gets before closing.
std::string rejection_line(std::size_t limit) {
  return "{\"error\":\"overloaded\",\"detail\":\"too many connections "
         "(limit "
         + std::to_string(limit) + ")\"}\n";
}

/// Bytes of replies handed to one socket write: the idle timeout sees a
/// slow reader's progress at this granularity.
constexpr std::size_t write_piece = 64 * 1024;

} // namespace

/// What the sessions share: backend, limits, counters and the listener.
class tcp_ingest::impl : public std::enable_shared_from_this<impl> {
public:
  impl(asio::io_context& io, const tcp::endpoint& endpoint, backend& be,
       ingest_options options);

  /// Starts accepting; every session keeps this impl alive.
  void start();

  /// Called by a session once it is gone (results in, socket closed).
  void remove(session* s);

  backend& backend_;
  const ingest_options options_;
  atomic_stats stats_;
  latency_histogram ack_latency_;
  const std::shared_ptr<listener<session>> listener_;
};

namespace {

/// One TCP connection. Every member is touched only on the socket's strand.
class session : public std::enable_shared_from_this<session> {
public:
  session(tcp::socket socket, std::shared_ptr<tcp_ingest::impl> owner)
    : socket_(std::move(socket)), owner_(std::move(owner)),
      framer_(owner_->options_.max_event_bytes),
      buffer_(owner_->options_.read_buffer_bytes),
      drain_timer_(socket_.get_executor()),
      idle_timer_(socket_.get_executor()) {
  }

  /// Opens the channel and starts reading.
  void start() {
    asio::post(socket_.get_executor(),
               [self = shared_from_this()] { self->on_start(); });
  }

  /// Server shutdown: stop reading, acknowledge what was read, close.
  void stop() {
    asio::post(socket_.get_executor(),
               [self = shared_from_this()] { self->on_stop(); });
  }

private:
  /// One submitted chunk waiting for its result or for its turn to be acked.
  struct inflight_chunk {
    uint64_t line_count = 0;
    std::size_t bytes = 0;
    std::chrono::steady_clock::time_point submitted;
    std::optional<outcome<chunk_result>> result;
    bool guessed = false; // a failure charged here without knowing its chunk
  };

  void on_start() {
    // With authentication on, the channel (and its session actor) opens
    // only once the auth line has been accepted.
    if (owner_->options_.auth == nullptr)
      open_channel();
    touch();
    arm_idle_timer(owner_->options_.idle_timeout);
    do_read();
  }

  void open_channel() {
    // Why: results arrive on actor threads; hop onto our strand. The handler
    // keeps the session alive until the channel is released.
    authenticated_ = true;
    auto executor = socket_.get_executor();
    sys_error ec;
    auto remote = socket_.remote_endpoint(ec);
    auto peer = ec ? std::string{"unknown"}
                   : remote.address().to_string() + ":"
                       + std::to_string(remote.port());
    channel_ = owner_->backend_.open_channel(
      [self = shared_from_this(), executor](outcome<chunk_result> r) {
        asio::post(executor, [self, r = std::move(r)]() mutable {
          self->on_result(std::move(r));
        });
      },
      std::move(peer));
  }

  /// Before authentication: collects the first line and checks it. Returns
  /// how many bytes of `p` it consumed; the rest (if authenticated_) are
  /// events. On refusal answers, stops reading and returns.
  std::size_t take_auth_line(const char* p, std::size_t n, bool eof) {
    const char* nl = static_cast<const char*>(std::memchr(p, '\n', n));
    std::size_t used = nl ? static_cast<std::size_t>(nl - p) + 1 : n;
    auth_line_.append(p, nl ? used - 1 : used);
    if (auth_line_.size() > max_auth_line) {
      refuse(auth_failure::missing);
      return used;
    }
    if (!nl && !eof)
      return used; // wait for the rest of the line
    auto token = auth_line_token(auth_line_);
    auto f = owner_->options_.auth->check(
      token ? std::optional<std::string_view>{*token} : std::nullopt,
      scope::write);
    auth_line_.clear();
    auth_line_.shrink_to_fit();
    if (f != auth_failure::none) {
      refuse(f);
      return used;
    }
    open_channel(); // accepted: no reply, the next line is seq 1
    return used;
  }

  /// One error line, then close without reading anything further.
  void refuse(auth_failure f) {
    out_ += auth_error_json(f, scope::write, true);
    out_ += "\n";
    read_closed_ = true;
    do_write();
  }

  /// Records progress for the idle timeout.
  void touch() {
    last_activity_ = std::chrono::steady_clock::now();
  }

  void arm_idle_timer(std::chrono::steady_clock::duration after) {
    idle_timer_.expires_after(after);
    idle_timer_.async_wait([self = shared_from_this()](sys_error ec) {
      if (!ec)
        self->on_idle_timer();
    });
  }

  void on_idle_timer() {
    if (finished_)
      return;
    auto limit = owner_->options_.idle_timeout;
    auto quiet = std::chrono::steady_clock::now() - last_activity_;
    if (quiet < limit || outstanding_ > 0)
      return arm_idle_timer(quiet < limit ? limit - quiet : limit);
    if (writing_active_) { // also after a half-close: replies must drain
      ++owner_->stats_.timed_out;
      return drop();
    }
    if (read_closed_)
      return; // finishing already
    ++owner_->stats_.timed_out;
    on_stop(); // like shutdown: nothing is in flight, the last ack went out
  }

  void on_stop() {
    stopping_ = true;
    if (read_closed_)
      return;
    if (reading_) {
      read_cancel_.emit(asio::cancellation_type::terminal);
      return;
    }
    end_reading();
  }

  void do_read() {
    reading_ = true;
    socket_.async_read_some(
      asio::buffer(buffer_),
      asio::bind_cancellation_slot(
        read_cancel_.slot(),
        [self = shared_from_this()](sys_error ec, std::size_t n) {
          self->on_read(ec, n);
        }));
  }

  void on_read(sys_error ec, std::size_t n) {
    reading_ = false;
    if (!authenticated_ && !read_closed_ && !ec) {
      auto used = take_auth_line(buffer_.data(), n, false);
      owner_->stats_.bytes_read += used;
      if (!authenticated_) {
        if (!read_closed_ && !stopping_)
          do_read();
        else if (stopping_)
          end_reading();
        return;
      }
      n -= used;
      std::memmove(buffer_.data(), buffer_.data() + used, n);
    } else if (!authenticated_ && ec == asio::error::eof && !read_closed_) {
      eof_seen_ = true;
      take_auth_line(buffer_.data(), 0, true);
      if (!authenticated_)
        return;
    }
    if (ec == asio::error::eof) {
      // DESIGN.md §4: at half-close a last line without '\n' counts.
      eof_seen_ = true;
      framer_.finish();
      submit_pending();
      return end_reading();
    }
    if (ec == asio::error::operation_aborted)
      return end_reading(); // shutdown: only complete lines count
    if (ec)
      return fail();
    touch();
    owner_->stats_.bytes_read += n;
    framer_.feed(buffer_.data(), n);
    drain_available();
    submit_pending();
    if (stopping_)
      return end_reading();
    maybe_read();
  }

  /// Takes in what the socket already holds, up to `max_chunk_bytes`, so
  /// that a busy connection hands over fewer, bigger chunks: every chunk
  /// costs one message per shard it touches, so chunk size is throughput.
  /// Never blocks (only bytes already available are read); an error or EOF
  /// is left for the next asynchronous read to see.
  void drain_available() {
    auto& opts = owner_->options_;
    sys_error ec;
    while (framer_.pending_bytes() < opts.max_chunk_bytes
           && submitted_ - acked_ + framer_.pending_lines()
                <= opts.max_inflight
           && inflight_bytes_ + framer_.pending_bytes()
                < opts.max_inflight_bytes) {
      auto ready = socket_.available(ec);
      if (ec || ready == 0)
        return;
      auto n = socket_.read_some(
        asio::buffer(buffer_.data(), std::min(ready, buffer_.size())), ec);
      if (ec)
        return;
      owner_->stats_.bytes_read += n;
      framer_.feed(buffer_.data(), n);
    }
  }

  /// Reads on unless backpressure (DESIGN.md §1) or closing says otherwise.
  void maybe_read() {
    if (reading_ || read_closed_ || stopping_)
      return;
    if (submitted_ - acked_ > owner_->options_.max_inflight)
      return;
    if (inflight_bytes_ > owner_->options_.max_inflight_bytes)
      return;
    if (out_.size() + writing_.size() - written_
        > owner_->options_.max_write_queue)
      return;
    do_read();
  }

  void submit_pending() {
    auto chunk = framer_.take_chunk();
    if (chunk.line_count == 0)
      return;
    pending_.emplace(chunk.first_seq,
                     inflight_chunk{chunk.line_count, chunk.data.size(),
                                    std::chrono::steady_clock::now(), {}});
    inflight_bytes_ += chunk.data.size();
    submitted_ = chunk.first_seq + chunk.line_count - 1;
    ++outstanding_;
    owner_->stats_.lines_submitted += chunk.line_count;
    channel_->submit(std::move(chunk));
  }

  void on_result(outcome<chunk_result> r) {
    --outstanding_;
    touch();
    if (auto* f = std::get_if<failure>(&r)) {
      ++owner_->stats_.chunks_failed;
      last_failure_ = *f;
      place_failure(std::move(*f));
    } else {
      place_success(std::move(std::get<chunk_result>(r)));
    }
    flush_acks();
    maybe_read();
    maybe_finish();
  }

  /// A failure names no chunk: charge it to the oldest chunk still waiting.
  /// Why: over-reporting is safe (a retried event that was applied comes
  /// back as a duplicate), under-reporting would hide lost events.
  void place_failure(failure f) {
    for (auto& [seq, c] : pending_) {
      if (c.result)
        continue;
      c.result = std::move(f);
      c.guessed = true;
      return;
    }
  }

  void place_success(chunk_result r) {
    auto it = pending_.find(r.first_seq);
    if (it == pending_.end()) {
      // Its chunk was already acked as failed on a guess, so the failure
      // belongs to a chunk still waiting.
      place_failure(last_failure_);
      return;
    }
    auto& c = it->second;
    std::optional<failure> moved;
    if (c.result && c.guessed)
      moved = std::get<failure>(std::move(*c.result));
    c.result = std::move(r);
    c.guessed = false;
    if (moved)
      place_failure(std::move(*moved));
  }

  /// Answers the contiguous completed prefix: error lines, then one ack.
  void flush_acks() {
    auto before = acked_;
    auto now = std::chrono::steady_clock::now();
    while (!pending_.empty() && pending_.begin()->second.result) {
      auto node = pending_.extract(pending_.begin());
      owner_->ack_latency_.add(now - node.mapped().submitted);
      append_outcome(node.key(), node.mapped());
      inflight_bytes_ -= node.mapped().bytes;
      acked_ = node.key() + node.mapped().line_count - 1;
    }
    if (acked_ == before)
      return;
    owner_->stats_.lines_acked += acked_ - before;
    if (aborted_)
      return;
    out_ += "{\"ack\":";
    out_ += std::to_string(acked_);
    out_ += "}\n";
    do_write();
  }

  void append_outcome(uint64_t first_seq, const inflight_chunk& c) {
    if (aborted_)
      return;
    if (auto* f = std::get_if<failure>(&*c.result)) {
      // The failed chunk's lines were not applied: one error line each.
      for (uint64_t seq = first_seq; seq < first_seq + c.line_count; ++seq)
        append_error_line(out_, seq, {}, f->code, f->detail);
      return;
    }
    for (const auto& rej : std::get<chunk_result>(*c.result).rejected)
      append_error_line(out_, rej.seq, rej.id, rej.code, rej.detail);
  }

  void do_write() {
    if (writing_active_ || aborted_)
      return;
    if (written_ == writing_.size()) {
      if (out_.empty())
        return;
      writing_.clear();
      written_ = 0;
      writing_.swap(out_);
    }
    writing_active_ = true;
    auto piece = std::min(write_piece, writing_.size() - written_);
    asio::async_write(socket_, asio::buffer(writing_.data() + written_, piece),
                      [self = shared_from_this()](sys_error ec, std::size_t n) {
                        self->on_write(ec, n);
                      });
  }

  void on_write(sys_error ec, std::size_t n) {
    writing_active_ = false;
    if (ec)
      return fail();
    touch();
    written_ += n;
    if (written_ == writing_.size()) {
      writing_.clear();
      written_ = 0;
    }
    do_write();
    maybe_read();
    maybe_finish();
  }

  void end_reading() {
    read_closed_ = true;
    maybe_finish();
  }

  /// A client error (reset, broken pipe): stop quietly, counted, no log.
  void fail() {
    if (aborted_)
      return;
    ++owner_->stats_.client_errors;
    aborted_ = true;
    read_closed_ = true;
    out_.clear();
    sys_error ignored;
    socket_.close(ignored);
    maybe_finish();
  }

  /// The idle timeout on a client that does not read its replies: they
  /// can never be delivered, so the connection goes at once.
  void drop() {
    aborted_ = true;
    read_closed_ = true;
    out_.clear();
    sys_error ignored;
    socket_.close(ignored);
    maybe_finish();
  }

  /// Closes once reading ended, every result arrived and every byte went.
  void maybe_finish() {
    if (finished_ || !read_closed_ || outstanding_ > 0)
      return;
    if (!aborted_ && (writing_active_ || !out_.empty() || !writing_.empty()))
      return;
    finished_ = true;
    channel_.reset(); // all results are in: releases the channel
    if (aborted_ || eof_seen_)
      return close();
    sys_error ignored;
    socket_.shutdown(tcp::socket::shutdown_send, ignored);
    drain_timer_.expires_after(drain_grace);
    drain_timer_.async_wait([self = shared_from_this()](sys_error ec) {
      if (!ec)
        self->close();
    });
    do_drain();
  }

  /// After the final ack on server shutdown: discard input until the
  /// client closes, so unread bytes do not turn our close into a reset.
  void do_drain() {
    socket_.async_read_some(
      asio::buffer(buffer_),
      [self = shared_from_this()](sys_error ec, std::size_t) {
        if (ec)
          return self->close();
        self->do_drain();
      });
  }

  void close() {
    if (released_)
      return;
    released_ = true;
    sys_error ignored;
    drain_timer_.cancel();
    idle_timer_.cancel();
    socket_.close(ignored);
    owner_->remove(this);
  }

  tcp::socket socket_; // its executor is this session's strand
  std::shared_ptr<tcp_ingest::impl> owner_;
  line_framer framer_;
  std::vector<char> buffer_;
  bool authenticated_ = false; // true at once when authentication is off
  std::string auth_line_;      // the first line, while not yet authenticated
  asio::steady_timer drain_timer_;
  asio::steady_timer idle_timer_;
  std::chrono::steady_clock::time_point last_activity_;
  asio::cancellation_signal read_cancel_;
  std::unique_ptr<backend::channel> channel_;
  std::map<uint64_t, inflight_chunk> pending_; // by first_seq
  failure last_failure_;
  uint64_t submitted_ = 0;      // last seq submitted
  uint64_t acked_ = 0;          // last seq acknowledged
  std::size_t outstanding_ = 0; // chunks without a result yet
  std::string out_;             // replies waiting for the current write
  std::string writing_;         // replies being written
  std::size_t written_ = 0;     // bytes of writing_ already sent
  std::size_t inflight_bytes_ = 0; // bytes of the chunks in pending_
  bool writing_active_ = false;
  bool reading_ = false;
  bool read_closed_ = false;
  bool eof_seen_ = false;
  bool stopping_ = false;
  bool aborted_ = false;
  bool finished_ = false;
  bool released_ = false;
};

} // namespace

tcp_ingest::impl::impl(asio::io_context& io, const tcp::endpoint& endpoint,
                       backend& be, ingest_options options)
  : backend_(be), options_(options),
    listener_(std::make_shared<listener<session>>(io, endpoint, "ingest")) {
  listener_->limit({options_.max_connections,
                    rejection_line(options_.max_connections)});
}

void tcp_ingest::impl::start() {
  listener_->start([self = shared_from_this()](tcp::socket socket) {
    return std::make_shared<session>(std::move(socket), self);
  });
}

void tcp_ingest::impl::remove(session* s) {
  listener_->remove(s);
}

tcp_ingest::tcp_ingest(asio::io_context& io, const tcp::endpoint& endpoint,
                       backend& be, ingest_options options)
  : impl_(std::make_shared<impl>(io, endpoint, be, options)) {
}

tcp_ingest::~tcp_ingest() {
  impl_->listener_->close();
}

tcp::endpoint tcp_ingest::local_endpoint() const {
  return impl_->listener_->local_endpoint();
}

void tcp_ingest::start() {
  impl_->start();
}

void tcp_ingest::shutdown(std::function<void()> done) {
  impl_->listener_->shutdown(std::move(done));
}

ingest_stats tcp_ingest::stats() const {
  const auto& s = impl_->stats_;
  const auto& l = *impl_->listener_;
  ingest_stats out;
  out.connections_accepted = l.connections_accepted();
  out.connections_open = l.connections_open();
  out.bytes_read = s.bytes_read;
  out.lines_submitted = s.lines_submitted;
  out.lines_acked = s.lines_acked;
  out.chunks_failed = s.chunks_failed;
  out.client_errors = s.client_errors;
  out.accept_errors = l.accept_errors();
  out.connections_rejected = l.connections_rejected();
  out.connections_timed_out = s.timed_out;
  out.ack_latency = impl_->ack_latency_.snapshot();
  return out;
}

} // namespace eventide

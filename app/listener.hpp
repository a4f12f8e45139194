#pragma once

#include <array>
#include <atomic>
#include <cstddef>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/write.hpp>
#include <spdlog/spdlog.h>

namespace eventide {

/// What a listener does with a connection over its limit.
struct connection_limit {
  /// Open connections at most; the next one is rejected.
  std::size_t max_connections = 1024;
  /// The bytes written to a rejected connection before it is closed.
  std::string rejection;
};

namespace detail {

/// A connection refused for being over the limit: writes the rejection,
/// half-closes and discards input briefly (so that a request the client
/// already sent does not turn the close into a reset that loses the
/// rejection), then closes. Holds itself alive through its handlers.
class rejected_connection
  : public std::enable_shared_from_this<rejected_connection> {
public:
  /// How long a rejected connection may linger to deliver its rejection.
  static constexpr auto grace = std::chrono::seconds(1);

  rejected_connection(boost::asio::ip::tcp::socket socket,
                      std::shared_ptr<const std::string> text,
                      std::shared_ptr<std::atomic<std::size_t>> lingering)
    : socket_(std::move(socket)), timer_(socket_.get_executor()),
      text_(std::move(text)), lingering_(std::move(lingering)) {
    ++*lingering_;
  }

  ~rejected_connection() {
    --*lingering_;
  }

  /// The socket's strand, where start() must run.
  boost::asio::any_io_executor executor() {
    return socket_.get_executor();
  }

  void start() {
    timer_.expires_after(grace);
    timer_.async_wait([self = shared_from_this()](sys_error ec) {
      if (!ec)
        self->close();
    });
    boost::asio::async_write(
      socket_, boost::asio::buffer(*text_),
      [self = shared_from_this()](sys_error ec, std::size_t) {
        if (ec)
          return self->close();
        sys_error ignored;
        self->socket_.shutdown(boost::asio::ip::tcp::socket::shutdown_send,
                               ignored);
        self->do_drain();
      });
  }

private:
  using sys_error = boost::system::error_code;

  void do_drain() {
    socket_.async_read_some(
      boost::asio::buffer(scratch_),
      [self = shared_from_this()](sys_error ec, std::size_t) {
        if (ec)
          return self->close();
        self->do_drain();
      });
  }

  void close() {
    sys_error ignored;
    timer_.cancel();
    socket_.close(ignored);
  }

  boost::asio::ip::tcp::socket socket_; // on its own strand
  boost::asio::steady_timer timer_;
  std::shared_ptr<const std::string> text_;
  std::shared_ptr<std::atomic<std::size_t>> lingering_;
  std::array<char, 1024> scratch_{};
};

} // namespace detail

/// The accepting half of a TCP server: the acceptor on its own strand, one
/// strand per accepted socket, the registry of live sessions and the shared
/// connection counters. `Session` is built by the caller's factory and must
/// offer start() and stop(); it calls remove(this) exactly once when gone.
template <class Session>
class listener : public std::enable_shared_from_this<listener<Session>> {
public:
  using socket_type = boost::asio::ip::tcp::socket;
  using endpoint_type = boost::asio::ip::tcp::endpoint;

  /// Builds a session from an accepted socket (on the socket's strand).
  using session_factory = std::function<std::shared_ptr<Session>(socket_type)>;

  /// Pause before accepting again after an accept error (e.g. out of fds).
  static constexpr auto accept_retry = std::chrono::milliseconds(100);

  /// Rejected connections that may linger at once to deliver their
  /// rejection; beyond that a rejected connection is closed at once.
  /// Why: a flood of connections must not cost more than this many fds.
  static constexpr std::size_t max_lingering = 64;

  /// At most one summary warning of rejected connections per interval.
  static constexpr auto rejection_log_interval = std::chrono::seconds(10);

  /// Binds `endpoint` (with reuse_address); throws std::runtime_error
  /// "<name>: cannot <step> <address>:<port>: <reason>" when it cannot.
  listener(boost::asio::io_context& io, const endpoint_type& endpoint,
           const std::string& name)
    : io_(io), acceptor_(boost::asio::make_strand(io)),
      retry_timer_(acceptor_.get_executor()), name_(name) {
    boost::system::error_code ec;
    auto check = [&](const char* what) {
      if (!ec)
        return;
      throw std::runtime_error(
        name + ": cannot " + std::string{what} + " "
        + endpoint.address().to_string() + ":" + std::to_string(endpoint.port())
        + ": " + ec.message());
    };
    acceptor_.open(endpoint.protocol(), ec);
    check("open");
    acceptor_.set_option(acceptor_type::reuse_address(true), ec);
    check("configure");
    acceptor_.bind(endpoint, ec);
    check("bind");
    acceptor_.listen(boost::asio::socket_base::max_listen_connections, ec);
    check("listen on");
    endpoint_ = acceptor_.local_endpoint();
  }

  listener(const listener&) = delete;
  listener& operator=(const listener&) = delete;

  /// The bound address (the real port when asked for port 0).
  endpoint_type local_endpoint() const {
    return endpoint_;
  }

  /// Sets the connection limit; call before start().
  void limit(connection_limit l) {
    max_connections_ = l.max_connections;
    rejection_ = std::make_shared<const std::string>(std::move(l.rejection));
  }

  /// Starts accepting; every accepted socket becomes `make_session(socket)`.
  /// Why: the factory travels with the pending accept instead of living in
  /// the listener, so whatever it holds stays alive exactly while accepting
  /// goes on and no ownership cycle through the listener can form.
  void start(session_factory make_session) {
    boost::asio::post(acceptor_.get_executor(),
                      [self = this->shared_from_this(),
                       make = std::move(make_session)]() mutable {
                        self->do_accept(std::move(make));
                      });
  }

  /// Stops accepting and calls stop() on every live session; `done` is
  /// posted to the io_context once the last session is removed.
  void shutdown(std::function<void()> done) {
    boost::asio::post(acceptor_.get_executor(),
                      [self = this->shared_from_this(),
                       done = std::move(done)]() mutable {
                        self->on_stop(std::move(done));
                      });
  }

  /// Stops accepting; live sessions are left alone.
  void close() {
    boost::asio::post(acceptor_.get_executor(),
                      [self = this->shared_from_this()] {
                        self->stop_accepting();
                      });
  }

  /// Called by a session once it is gone; counts it closed and unregisters it.
  void remove(Session* s) {
    --connections_open_;
    {
      std::lock_guard guard{mutex_};
      sessions_.erase(s);
    }
    maybe_done();
  }

  /// Counters; callable from any thread.
  uint64_t connections_accepted() const {
    return connections_accepted_;
  }
  uint64_t connections_open() const {
    return connections_open_;
  }
  uint64_t accept_errors() const {
    return accept_errors_;
  }
  uint64_t connections_rejected() const {
    return connections_rejected_;
  }

private:
  using acceptor_type = boost::asio::ip::tcp::acceptor;
  using sys_error = boost::system::error_code;

  void do_accept(session_factory make) {
    if (stopping_)
      return;
    acceptor_.async_accept(
      boost::asio::make_strand(io_),
      [self = this->shared_from_this(),
       make = std::move(make)](sys_error ec, socket_type socket) mutable {
        self->on_accept(ec, std::move(socket), std::move(make));
      });
  }

  void on_accept(sys_error ec, socket_type socket, session_factory make) {
    if (stopping_ || ec == boost::asio::error::operation_aborted)
      return;
    if (ec) {
      // Out of descriptors and the like: count, back off, accept again.
      ++accept_errors_;
      retry_timer_.expires_after(accept_retry);
      retry_timer_.async_wait(
        [self = this->shared_from_this(),
         make = std::move(make)](sys_error wait_ec) mutable {
          if (!wait_ec)
            self->do_accept(std::move(make));
        });
      return;
    }
    if (connections_open_ >= max_connections_) {
      reject(std::move(socket));
      return do_accept(std::move(make));
    }
    ++connections_accepted_;
    ++connections_open_;
    // Replies (acks, HTTP answers) are small writes that clients wait on:
    // Nagle's algorithm would hold each one back until the previous was
    // acknowledged.
    sys_error ignored;
    socket.set_option(boost::asio::ip::tcp::no_delay{true}, ignored);
    auto s = make(std::move(socket));
    {
      std::lock_guard guard{mutex_};
      sessions_.emplace(s.get(), s);
    }
    s->start();
    do_accept(std::move(make));
  }

  /// Over the limit: counted, answered and closed without a session; one
  /// summary warning per interval at most, never a line per connection.
  void reject(socket_type socket) {
    ++connections_rejected_;
    ++rejected_since_log_;
    auto now = std::chrono::steady_clock::now();
    if (now - last_rejection_log_ >= rejection_log_interval) {
      spdlog::warn("{}: rejected {} connections over the limit of {} since "
                   "the last report",
                   name_, rejected_since_log_, max_connections_);
      rejected_since_log_ = 0;
      last_rejection_log_ = now;
    }
    if (*lingering_ >= max_lingering || !rejection_ || rejection_->empty()) {
      sys_error ignored;
      socket.close(ignored);
      return;
    }
    auto r = std::make_shared<detail::rejected_connection>(
      std::move(socket), rejection_, lingering_);
    boost::asio::post(r->executor(), [r] { r->start(); });
  }

  void on_stop(std::function<void()> done) {
    stop_accepting();
    std::vector<std::shared_ptr<Session>> live;
    {
      std::lock_guard guard{mutex_};
      done_ = std::move(done);
      for (auto& [ptr, weak] : sessions_)
        if (auto s = weak.lock())
          live.push_back(std::move(s));
    }
    for (auto& s : live)
      s->stop();
    maybe_done();
  }

  /// On the listener's strand.
  void stop_accepting() {
    stopping_ = true;
    sys_error ignored;
    acceptor_.close(ignored);
    retry_timer_.cancel();
  }

  void maybe_done() {
    std::function<void()> done;
    {
      std::lock_guard guard{mutex_};
      if (!done_ || !sessions_.empty())
        return;
      done = std::exchange(done_, nullptr);
    }
    boost::asio::post(io_, std::move(done));
  }

  boost::asio::io_context& io_;
  acceptor_type acceptor_; // its executor is the listener's strand
  boost::asio::steady_timer retry_timer_;
  endpoint_type endpoint_;
  bool stopping_ = false; // on the listener's strand
  std::atomic<uint64_t> connections_accepted_{0};
  std::atomic<uint64_t> connections_open_{0};
  std::atomic<uint64_t> accept_errors_{0};
  std::atomic<uint64_t> connections_rejected_{0};
  std::size_t max_connections_ = SIZE_MAX;
  std::shared_ptr<const std::string> rejection_;
  std::shared_ptr<std::atomic<std::size_t>> lingering_
    = std::make_shared<std::atomic<std::size_t>>(0);
  std::string name_;
  uint64_t rejected_since_log_ = 0; // on the listener's strand
  std::chrono::steady_clock::time_point last_rejection_log_{};
  std::mutex mutex_; // guards sessions_ and done_
  std::unordered_map<Session*, std::weak_ptr<Session>> sessions_;
  std::function<void()> done_;
};

} // namespace eventide

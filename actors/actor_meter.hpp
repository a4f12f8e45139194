#pragma once

#include <chrono>
#include <cstdint>
#include <string>

#include "messages/error_code.hpp"
#include "messages/introspection.hpp"

namespace eventide {

/// The counters every eventide actor keeps about itself for the admin
/// console: messages handled, time spent in handlers, uptime and the last
/// error. Lives in the actor's state; only the actor touches it, so there is
/// no lock and no atomic. Cost per message: two steady_clock reads.
class actor_meter {
public:
  using clock = std::chrono::steady_clock;

  /// Runs `f` (one message handler) and counts it.
  template <class F>
  decltype(auto) measure(F&& f) {
    struct guard {
      actor_meter& m;
      clock::time_point t0 = clock::now();
      ~guard() {
        ++m.processed_;
        m.busy_ns_ += static_cast<uint64_t>(
          std::chrono::duration_cast<std::chrono::nanoseconds>(clock::now()
                                                               - t0)
            .count());
      }
    } g{*this};
    return f();
  }

  /// Remembers the newest error this actor ran into.
  void note_error(error_code code, std::string detail) {
    has_error_ = true;
    error_ = code;
    error_detail_ = std::move(detail);
    error_at_ = clock::now();
  }

  /// Fills the common members of `info`; `mailbox` comes from the actor.
  void fill(actor_info& info, uint64_t mailbox) const {
    auto now = clock::now();
    info.mailbox = mailbox;
    info.processed = processed_;
    info.busy_ns = busy_ns_;
    info.uptime_ms = ms(now - started_);
    info.has_error = has_error_;
    if (has_error_) {
      info.error = error_;
      info.error_detail = error_detail_;
      info.error_age_ms = ms(now - error_at_);
    }
  }

  uint64_t busy_ns() const {
    return busy_ns_;
  }

private:
  static uint64_t ms(clock::duration d) {
    return static_cast<uint64_t>(
      std::chrono::duration_cast<std::chrono::milliseconds>(d).count());
  }

  clock::time_point started_ = clock::now();
  uint64_t processed_ = 0;
  uint64_t busy_ns_ = 0;
  bool has_error_ = false;
  error_code error_ = error_code::internal;
  std::string error_detail_;
  clock::time_point error_at_;
};

} // namespace eventide

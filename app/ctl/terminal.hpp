#pragma once

#include <chrono>

namespace eventide::ctl {

/// Installs a SIGINT handler that only sets a flag (no SA_RESTART, so
/// blocking calls return early). Long commands poll interrupted().
void install_interrupt_handler();
bool interrupted();
void clear_interrupt();

bool stdin_is_terminal();
bool stdout_is_terminal();
bool stderr_is_terminal();

/// Rows of the terminal on stdout, or `fallback`.
int terminal_rows(int fallback = 24);

/// Puts a terminal stdin into non-canonical, no-echo mode (signals still
/// work) and restores it on destruction; does nothing on a non-terminal.
class raw_input {
public:
  raw_input();
  ~raw_input();
  raw_input(const raw_input&) = delete;
  raw_input& operator=(const raw_input&) = delete;

  /// Waits up to `timeout` for a key; 0 when none came or on interrupt.
  char wait_key(std::chrono::milliseconds timeout);

private:
  bool active_ = false;
  struct saved;
  saved* saved_ = nullptr;
};

} // namespace eventide::ctl

#include "app/ctl/terminal.hpp"

#include <csignal>

#include <poll.h>
#include <sys/ioctl.h>
#include <termios.h>
#include <unistd.h>

namespace eventide::ctl {

namespace {

volatile std::sig_atomic_t interrupt_flag = 0;

extern "C" void on_sigint(int) {
  interrupt_flag = 1;
}

} // namespace

void install_interrupt_handler() {
  struct sigaction sa {};
  sa.sa_handler = on_sigint;
  sigemptyset(&sa.sa_mask);
  sa.sa_flags = 0;
  sigaction(SIGINT, &sa, nullptr);
}

bool interrupted() {
  return interrupt_flag != 0;
}

void clear_interrupt() {
  interrupt_flag = 0;
}

bool stdin_is_terminal() {
  return isatty(STDIN_FILENO) == 1;
}

bool stdout_is_terminal() {
  return isatty(STDOUT_FILENO) == 1;
}

bool stderr_is_terminal() {
  return isatty(STDERR_FILENO) == 1;
}

int terminal_rows(int fallback) {
  winsize ws{};
  if (ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_row > 0)
    return ws.ws_row;
  return fallback;
}

struct raw_input::saved {
  termios attrs;
};

raw_input::raw_input() {
  if (!stdin_is_terminal())
    return;
  saved_ = new saved{};
  if (tcgetattr(STDIN_FILENO, &saved_->attrs) != 0)
    return;
  termios raw = saved_->attrs;
  raw.c_lflag &= ~static_cast<tcflag_t>(ICANON | ECHO);
  raw.c_cc[VMIN] = 1;
  raw.c_cc[VTIME] = 0;
  active_ = tcsetattr(STDIN_FILENO, TCSANOW, &raw) == 0;
}

raw_input::~raw_input() {
  if (active_)
    tcsetattr(STDIN_FILENO, TCSANOW, &saved_->attrs);
  delete saved_;
}

char raw_input::wait_key(std::chrono::milliseconds timeout) {
  if (!active_) {
    // Not a terminal: just sleep, interruptibly.
    poll(nullptr, 0, static_cast<int>(timeout.count()));
    return 0;
  }
  pollfd pfd{STDIN_FILENO, POLLIN, 0};
  if (poll(&pfd, 1, static_cast<int>(timeout.count())) != 1)
    return 0;
  char ch = 0;
  if (read(STDIN_FILENO, &ch, 1) != 1)
    return 0;
  return ch;
}

} // namespace eventide::ctl

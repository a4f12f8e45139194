#include "app/line_framer.hpp"

#include <cstring>
#include <utility>

namespace eventide {

line_framer::line_framer(std::size_t max_line_bytes, uint64_t first_seq)
  : max_line_(max_line_bytes), next_seq_(first_seq) {
  chunk_.first_seq = first_seq;
}

void line_framer::feed(const char* p, std::size_t n) {
  const char* end = p + n;
  while (p < end) {
    auto* nl = static_cast<const char*>(
      std::memchr(p, '\n', static_cast<std::size_t>(end - p)));
    if (nl == nullptr) {
      hold_partial(p, static_cast<std::size_t>(end - p));
      return;
    }
    complete_line(p, static_cast<std::size_t>(nl - p));
    p = nl + 1;
  }
}

void line_framer::finish() {
  // DESIGN.md §4: a last line without '\n' at half-close counts as a line.
  if (skipping_) {
    complete_oversized();
    return;
  }
  if (partial_.empty())
    return;
  chunk_.data += partial_;
  partial_.clear();
  ++chunk_.line_count;
  ++next_seq_;
}

ingest_chunk line_framer::take_chunk() {
  ingest_chunk next;
  next.first_seq = next_seq_;
  return std::exchange(chunk_, std::move(next));
}

void line_framer::complete_line(const char* p, std::size_t n) {
  if (skipping_ || partial_.size() + n > max_line_) {
    complete_oversized();
    return;
  }
  chunk_.data += partial_;
  chunk_.data.append(p, n);
  chunk_.data += '\n';
  partial_.clear();
  ++chunk_.line_count;
  ++next_seq_;
}

void line_framer::complete_oversized() {
  chunk_.oversized.push_back(next_seq_);
  partial_.clear();
  skipping_ = false;
  ++chunk_.line_count;
  ++next_seq_;
}

void line_framer::hold_partial(const char* p, std::size_t n) {
  if (skipping_)
    return;
  // Why: the partial buffer is bounded by the limit; a longer line is
  // dropped without buffering it and reported as too_large at its '\n'.
  if (partial_.size() + n > max_line_) {
    partial_.clear();
    skipping_ = true;
    return;
  }
  partial_.append(p, n);
}

} // namespace eventide

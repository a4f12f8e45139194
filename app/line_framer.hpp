#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

#include "messages/ingest.hpp"

namespace eventide {

/// Cuts a byte stream into NDJSON lines and numbers them (DESIGN.md §4).
///
/// Every '\n'-terminated line takes the next sequence number, blank ones
/// too. A line longer than the limit is never buffered: the framer skips to
/// its '\n' and lists its number in the chunk's `oversized`. The result does
/// not depend on how the input is split across `feed` calls.
class line_framer {
public:
  /// `max_line_bytes` bounds a line without its '\n'; numbering starts at
  /// `first_seq` (1 for a TCP connection, 0 for an HTTP body).
  explicit line_framer(std::size_t max_line_bytes, uint64_t first_seq = 1);

  /// Consumes `n` bytes; complete lines move into the pending chunk.
  void feed(const char* p, std::size_t n);

  /// End of input: a last line without '\n' counts as a line.
  void finish();

  /// Returns the pending chunk and starts the next one. The chunk is empty
  /// (`line_count == 0`) when no line completed since the last call.
  ingest_chunk take_chunk();

  /// The sequence number the next complete line will take.
  uint64_t next_seq() const noexcept {
    return next_seq_;
  }

  /// Sequence numbers the pending chunk covers so far.
  uint64_t pending_lines() const noexcept {
    return chunk_.line_count;
  }

  /// Bytes of complete lines waiting in the pending chunk.
  std::size_t pending_bytes() const noexcept {
    return chunk_.data.size();
  }

  /// Bytes of an unfinished line held back (at most the limit).
  std::size_t partial_bytes() const noexcept {
    return partial_.size();
  }

private:
  void complete_line(const char* p, std::size_t n);
  void complete_oversized();
  void hold_partial(const char* p, std::size_t n);

  std::size_t max_line_;
  uint64_t next_seq_;
  ingest_chunk chunk_;
  std::string partial_;
  bool skipping_ = false; // inside an oversized line, waiting for its '\n'
};

} // namespace eventide

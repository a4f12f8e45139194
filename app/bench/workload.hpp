#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "app/bench/options.hpp"

namespace eventide::bench {

/// The kinds of bad line the generator mixes in; each has one expected code.
enum class bad_kind : uint8_t {
  not_json,
  missing_key,
  unknown_member,
  incr_string,
};

inline constexpr size_t bad_kind_count = 4;

/// The error code the server must report for a bad line of this kind.
std::string_view expected_code(bad_kind kind);

/// One write (TCP) or one request body (HTTP): a run of whole lines.
struct chunk {
  size_t end = 0;         // byte offset one past the chunk's last '\n'
  uint64_t last_seq = 0;  // seq of the chunk's last line (seqs start at 1)
  uint32_t incr_end = 0;  // good incr events in this and earlier chunks
  uint32_t bad_end = 0;   // bad lines in this and earlier chunks
};

/// One bad line: where it is and what the server must say about it.
struct bad_line {
  uint64_t seq = 0;
  bad_kind kind = bad_kind::not_json;
};

/// Everything one connection will send, generated before the clock starts.
struct connection_plan {
  std::string bytes;                // all lines, '\n'-terminated
  std::vector<chunk> chunks;        // consecutive slices of `bytes`
  std::vector<uint32_t> incr_keys;  // key index of each good incr, in order
  std::vector<bad_line> bad_lines;  // sorted by seq

  /// First byte of chunk `i`.
  size_t chunk_begin(size_t i) const {
    return i == 0 ? 0 : chunks[i - 1].end;
  }
  /// Seq of the first line of chunk `i`.
  uint64_t chunk_first_seq(size_t i) const {
    return i == 0 ? 1 : chunks[i - 1].last_seq + 1;
  }
  /// The bad line with this seq, or nullptr.
  const bad_line* find_bad(uint64_t seq) const;
};

/// Generates the plans of all connections (deterministic for a seed).
std::vector<connection_plan> generate_plans(const bench_options& opts);

/// The key string of key index `k` ("k:<k>").
std::string key_name(uint32_t k);

/// Per bad kind, how many bad lines the first `chunks_sent` chunks hold.
std::array<uint64_t, bad_kind_count>
count_bad_sent(const connection_plan& plan, size_t chunks_sent);

}  // namespace eventide::bench

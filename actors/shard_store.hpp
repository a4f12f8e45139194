#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "messages/error_code.hpp"
#include "messages/event.hpp"

namespace eventide {

/// Limits a shard gets at spawn.
struct shard_limits {
  std::size_t dedup_window = 15625; // (key, id) pairs remembered by this shard
};

/// What one `apply` did. `rejected` is in input order.
struct apply_outcome {
  uint64_t applied = 0;
  uint64_t duplicates = 0;
  std::vector<rejection> rejected;
};

/// Counters and sizes of one shard.
struct shard_store_stats {
  uint32_t shard = 0;
  uint64_t keys = 0;
  uint64_t bytes = 0; // approximate memory held by records and dedup window
  uint64_t events_applied = 0;
  uint64_t duplicates = 0;
  std::array<uint64_t, error_code_count> rejected{}; // by error_code
};

/// The state one shard owns: key -> record, its de-dup window, its counters.
/// Plain C++ with no CAF inside; the shard actor delegates to it.
class shard_store {
public:
  shard_store() = default;
  shard_store(uint32_t index, shard_limits limits);

  /// Applies events in order (DESIGN.md §2: set/incr/del, de-dup by
  /// (key, id)). An event is applied whole or not at all. Events without
  /// `has_ts` must have been stamped by the caller.
  apply_outcome apply(std::vector<event>& events);

  /// The record of `key` rendered as DESIGN.md §3 JSON, or nullopt.
  std::optional<std::string> get(std::string_view key) const;

  /// Removes the whole record of `key`; false when absent.
  bool erase(std::string_view key);

  shard_store_stats stats() const;

  // (private members are up to the implementation)
};

} // namespace eventide

#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "actors/dedup_window.hpp"
#include "messages/error_code.hpp"
#include "messages/event.hpp"
#include "messages/storage.hpp"

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
  uint64_t dedup_ids = 0;      // (key, id) pairs remembered
  uint64_t dedup_capacity = 0; // pairs the window can hold
};

/// The state one shard owns: key -> record, its de-dup window, its counters.
/// Plain C++ with no CAF inside; the shard actor delegates to it.
class shard_store {
public:
  shard_store() = default;
  shard_store(uint32_t index, shard_limits limits);

  /// Applies events in order (DESIGN.md §2: set/incr/del, de-dup by
  /// (key, id)). An event is applied whole or not at all. Events without
  /// `has_ts` must have been stamped by the caller. The values of applied
  /// `set` events may be moved out of `events`; seq, id, key, op stay.
  apply_outcome apply(std::vector<event>& events);

  /// The record of `key` rendered as DESIGN.md §3 JSON, or nullopt.
  std::optional<std::string> get(std::string_view key) const;

  /// Removes the whole record of `key`; false when absent.
  bool erase(std::string_view key);

  /// Counters and sizes; `bytes` is an estimate kept up to date per event.
  shard_store_stats stats() const;

  /// The whole state as a snapshot taken after batch `seq` (durability).
  shard_snapshot snapshot(uint64_t seq) const;

  /// Replaces the state with `snap` (on recovery, before any apply).
  void restore(const shard_snapshot& snap);

  /// The `n` keys with the most applied events, most first (a scan of the
  /// shard: for the admin console, not for the hot path).
  std::vector<std::pair<std::string, uint64_t>> hottest(std::size_t n) const;

private:
  /// A stored field value: an integer, a real, or compact JSON text.
  using value = std::variant<int64_t, double, std::string>;

  /// One field of a record.
  struct stored_field {
    std::string name;
    value val;
  };

  /// The state of one key (DESIGN.md §3).
  struct record {
    std::string key;
    std::vector<stored_field> fields; // in order of first write
    uint64_t events = 0;
    uint64_t version = 0; // 0 only while being created
    int64_t first_ts = 0;
    int64_t last_ts = 0;
  };

  /// Why an event was rejected, or nothing when it was applied.
  struct verdict {
    bool ok = true;
    error_code code = error_code::internal;
    std::string detail;
  };

  verdict apply_op(event& ev, uint64_t hash);
  verdict apply_set(event& ev, uint64_t hash);
  verdict apply_incr(event& ev, uint64_t hash);
  verdict apply_del_fields(event& ev, uint64_t hash);
  verdict apply_del_record(event& ev, uint64_t hash);

  /// Computes every incr result into `incr_scratch_`; nothing is changed.
  verdict plan_incr(const record* rec, const std::vector<field>& data);

  static uint64_t hash_key(std::string_view key);
  record* find(std::string_view key, uint64_t hash);
  const record* find(std::string_view key, uint64_t hash) const;
  record& create(std::string key, uint64_t hash, std::size_t field_hint);
  record& find_or_create(std::string_view key, uint64_t hash,
                         std::size_t field_hint);
  void prefetch(uint64_t hash) const;
  void touch(record& rec, int64_t ts);
  void write_field(record& rec, std::string_view name, value val);
  void erase_record(record& rec);
  std::size_t slot_of(uint32_t index) const;
  void unlink_slot(std::size_t slot);
  void grow_slots();

  uint32_t index_ = 0;
  dedup_window window_;
  // Records live densely in `records_` (erase moves the last into the hole);
  // `slots_` is a linear-probing index: 0 = empty, else the low 32 bits of
  // the key's hash above (record index + 1).
  std::vector<record> records_;
  std::vector<uint64_t> slots_;
  std::size_t slot_mask_ = 0;
  uint64_t record_bytes_ = 0; // heap behind records (keys, fields, values)
  uint64_t events_applied_ = 0;
  uint64_t duplicates_ = 0;
  std::array<uint64_t, error_code_count> rejected_{};
  std::vector<value> incr_scratch_; // reused across events, no allocation
};

} // namespace eventide

#pragma once

// Design note: the de-dup window remembers the last N applied (key, id)
// pairs. Storing the strings would cost ~100+ bytes a pair, so each pair is
// reduced to a 128-bit fingerprint (two independently seeded 64-bit hashes
// over an unambiguous encoding: length of key, key, length of id, id); a
// false "duplicate" needs a 128-bit collision among at most N live entries.
// Fingerprints sit in a FIFO ring (16 bytes each, the oldest is overwritten
// when full); an open-addressing table (linear probing, load <= 0.7,
// backward-shift deletion so no tombstones) finds them. A table slot is the
// ring index plus the low 32 bits of the fingerprint, so probing and
// deletion rarely touch the ring (one cache miss saved per step). That is
// 27-39 bytes per remembered pair; both arrays grow with use up to N.

#include <cstddef>
#include <cstdint>
#include <string_view>
#include <vector>

namespace eventide {

/// A 128-bit digest of one (key, id) pair.
struct fingerprint {
  uint64_t lo = 0;
  uint64_t hi = 0;
  friend bool operator==(const fingerprint&, const fingerprint&) = default;
};

/// A well-mixed 64-bit hash of `bytes` (not cryptographic), seeded by `seed`.
uint64_t hash_bytes(std::string_view bytes, uint64_t seed);

/// The fingerprint of the pair (`key`, `id`); ("ab","c") != ("a","bc").
fingerprint make_fingerprint(std::string_view key, std::string_view id);

/// A FIFO set of the last `capacity` fingerprints; capacity 0 disables it.
class dedup_window {
public:
  /// Largest supported capacity (ring indices are 32-bit).
  static constexpr std::size_t max_capacity = 0xFFFFFFFEu;

  dedup_window() = default;

  /// A window remembering up to `capacity` pairs (clamped to max_capacity).
  explicit dedup_window(std::size_t capacity);

  /// True when `fp` is one of the remembered fingerprints.
  bool contains(const fingerprint& fp) const;

  /// Hints the CPU to load the table slot `contains(fp)` will read first.
  void prefetch(const fingerprint& fp) const {
    if (!table_.empty())
      __builtin_prefetch(&table_[static_cast<uint32_t>(fp.lo) & mask_]);
  }

  /// Remembers `fp` (which must not be contained), evicting the oldest
  /// fingerprint when the window is full. No-op when capacity is 0.
  void insert(const fingerprint& fp);

  /// Number of fingerprints remembered now.
  std::size_t size() const {
    return size_;
  }

  /// Most fingerprints remembered at once.
  std::size_t capacity() const {
    return capacity_;
  }

  /// Bytes held by the ring and the index table.
  std::size_t bytes() const;

  /// Calls `f` with every remembered fingerprint, oldest first (inserting
  /// them in this order into an empty window rebuilds this one).
  template <class F>
  void for_each_oldest_first(F&& f) const {
    for (std::size_t i = 0; i < size_; ++i)
      f(ring_[(oldest_ + i) % size_]);
  }

private:
  static constexpr uint64_t empty_slot = 0;

  /// A table slot: low 32 bits of fp.lo above (ring index + 1).
  static uint64_t slot_for(const fingerprint& fp, uint32_t ring_index) {
    return (fp.lo << 32) | (uint64_t{ring_index} + 1);
  }

  std::size_t home_of_slot(uint64_t slot) const {
    return static_cast<std::size_t>(slot >> 32) & mask_;
  }

  void grow_table();
  void place(uint32_t ring_index);
  void remove(uint32_t ring_index);
  void grow_ring();

  std::size_t capacity_ = 0;
  std::size_t size_ = 0;
  std::size_t oldest_ = 0; // ring position of the oldest entry once full
  std::vector<fingerprint> ring_;
  std::vector<uint64_t> table_; // slot_for(...) or empty_slot
  std::size_t mask_ = 0;        // table_.size() - 1
};

} // namespace eventide

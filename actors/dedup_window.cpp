#include "actors/dedup_window.hpp"

#include <algorithm>
#include <cstring>

namespace eventide {

namespace {

constexpr uint64_t rotl(uint64_t x, int r) {
  return (x << r) | (x >> (64 - r));
}

/// One hashing lane. Each step `h = (rotl(h) ^ w) * odd` is a bijection of
/// the state for a fixed word, so two inputs of equal word count that differ
/// anywhere leave different states; `finish` then spreads every bit.
struct lane {
  uint64_t h;
  uint64_t mul;
  int rot;

  void absorb(uint64_t w) {
    h = (rotl(h, rot) ^ w) * mul;
  }

  uint64_t finish() const {
    uint64_t x = h;
    x ^= x >> 31;
    x *= 0xA24BAED4963EE407ull;
    x ^= x >> 29;
    x *= 0x9FB21C651E98DF25ull;
    x ^= x >> 32;
    return x;
  }
};

/// Feeds the length of `s`, then `s` in 8-byte words (the last one
/// zero-padded; unambiguous because the length came first).
template <class Sink>
void absorb_string(std::string_view s, Sink&& sink) {
  sink(static_cast<uint64_t>(s.size()));
  const char* p = s.data();
  std::size_t n = s.size();
  for (; n >= 8; p += 8, n -= 8) {
    uint64_t w;
    std::memcpy(&w, p, 8);
    sink(w);
  }
  if (n > 0) {
    uint64_t w = 0;
    std::memcpy(&w, p, n);
    sink(w);
  }
}

constexpr lane lane_a{0x243F6A8885A308D3ull, 0x9E3779B97F4A7C15ull, 23};
constexpr lane lane_b{0x13198A2E03707344ull, 0xD1B54A32D192ED03ull, 41};

} // namespace

uint64_t hash_bytes(std::string_view bytes, uint64_t seed) {
  lane a = lane_a;
  a.h ^= seed;
  absorb_string(bytes, [&](uint64_t w) { a.absorb(w); });
  return a.finish();
}

fingerprint make_fingerprint(std::string_view key, std::string_view id) {
  lane a = lane_a;
  lane b = lane_b;
  auto sink = [&](uint64_t w) {
    a.absorb(w);
    b.absorb(w);
  };
  absorb_string(key, sink);
  absorb_string(id, sink);
  return {a.finish(), b.finish()};
}

dedup_window::dedup_window(std::size_t capacity)
  : capacity_(std::min(capacity, max_capacity)) {
  // Nothing is allocated until the first insert: ring and table grow with
  // use, so a shard that sees few events holds little memory.
}

bool dedup_window::contains(const fingerprint& fp) const {
  if (size_ == 0)
    return false;
  auto tag = static_cast<uint32_t>(fp.lo);
  for (std::size_t i = tag & mask_;; i = (i + 1) & mask_) {
    uint64_t slot = table_[i];
    if (slot == empty_slot)
      return false;
    if (static_cast<uint32_t>(slot >> 32) == tag
        && ring_[static_cast<uint32_t>(slot) - 1] == fp)
      return true;
  }
}

void dedup_window::insert(const fingerprint& fp) {
  if (capacity_ == 0)
    return;
  if (size_ == capacity_) {
    // Full: the oldest entry's ring cell is reused for the newest one.
    auto index = static_cast<uint32_t>(oldest_);
    remove(index);
    ring_[index] = fp;
    place(index);
    oldest_ = oldest_ + 1 == capacity_ ? 0 : oldest_ + 1;
    return;
  }
  if (ring_.size() == ring_.capacity())
    grow_ring();
  ring_.push_back(fp);
  ++size_;
  if (size_ * 10 > table_.size() * 7)
    grow_table(); // re-places every entry, the new one included
  else
    place(static_cast<uint32_t>(size_ - 1));
}

std::size_t dedup_window::bytes() const {
  return ring_.capacity() * sizeof(fingerprint)
         + table_.capacity() * sizeof(uint64_t);
}

void dedup_window::grow_ring() {
  std::size_t want = std::max<std::size_t>(16, ring_.capacity() * 2);
  ring_.reserve(std::min(want, capacity_));
}

void dedup_window::grow_table() {
  std::size_t n = std::max<std::size_t>(16, table_.size());
  while (size_ * 10 > n * 7)
    n *= 2;
  table_.assign(n, empty_slot);
  table_.shrink_to_fit();
  mask_ = n - 1;
  for (std::size_t i = 0; i < ring_.size(); ++i)
    place(static_cast<uint32_t>(i));
}

void dedup_window::place(uint32_t ring_index) {
  uint64_t slot = slot_for(ring_[ring_index], ring_index);
  std::size_t i = home_of_slot(slot);
  while (table_[i] != empty_slot)
    i = (i + 1) & mask_;
  table_[i] = slot;
}

void dedup_window::remove(uint32_t ring_index) {
  uint64_t slot = slot_for(ring_[ring_index], ring_index);
  std::size_t i = home_of_slot(slot);
  while (table_[i] != slot)
    i = (i + 1) & mask_;
  // Backward shift: pull later entries of the probe run into the hole unless
  // that would move one before its home slot.
  for (std::size_t j = (i + 1) & mask_; table_[j] != empty_slot;
       j = (j + 1) & mask_) {
    std::size_t home = home_of_slot(table_[j]);
    if (((j - home) & mask_) >= ((j - i) & mask_)) {
      table_[i] = table_[j];
      i = j;
    }
  }
  table_[i] = empty_slot;
}

} // namespace eventide

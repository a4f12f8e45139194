#include "actors/placement.hpp"

namespace eventide {

uint64_t stable_key_hash(std::string_view key) {
  // FNV-1a over the bytes, then a murmur-style finaliser so that the low
  // bits used by the modulo depend on every input byte.
  uint64_t h = 14695981039346656037ull;
  for (unsigned char c : key) {
    h ^= c;
    h *= 1099511628211ull;
  }
  h ^= h >> 33;
  h *= 0xff51afd7ed558ccdull;
  h ^= h >> 33;
  h *= 0xc4ceb9fe1a85ec53ull;
  h ^= h >> 33;
  return h;
}

uint32_t shard_of(std::string_view key, uint32_t shards) {
  return static_cast<uint32_t>(stable_key_hash(key) % shards);
}

} // namespace eventide

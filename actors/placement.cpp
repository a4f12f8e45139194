#include "actors/placement.hpp"

namespace eventide {

namespace {

uint64_t mix(uint64_t h) {
  h ^= h >> 33;
  h *= 0xff51afd7ed558ccdull;
  h ^= h >> 33;
  h *= 0xc4ceb9fe1a85ec53ull;
  h ^= h >> 33;
  return h;
}

} // namespace

uint64_t stable_key_hash(std::string_view key) {
  // FNV-1a over the bytes, then a murmur-style finaliser so that the low
  // bits used by the modulo depend on every input byte.
  uint64_t h = 14695981039346656037ull;
  for (unsigned char c : key) {
    h ^= c;
    h *= 1099511628211ull;
  }
  return mix(h);
}

uint32_t shard_of(std::string_view key, uint32_t shards) {
  return static_cast<uint32_t>(stable_key_hash(key) % shards);
}

std::vector<std::size_t> place_shards(const std::vector<std::string>& members,
                                      uint32_t shards) {
  std::vector<std::size_t> owner;
  if (members.empty())
    return owner;
  std::vector<uint64_t> base;
  base.reserve(members.size());
  for (auto& name : members)
    base.push_back(stable_key_hash(name));
  owner.resize(shards);
  for (uint32_t s = 0; s < shards; ++s) {
    uint64_t best = 0;
    std::size_t best_i = 0;
    for (std::size_t i = 0; i < members.size(); ++i) {
      auto w = mix(base[i] ^ mix(s + 0x9e3779b97f4a7c15ull));
      // Ties (practically never) go to the smaller name, so that the order
      // of `members` cannot matter.
      if (i == 0 || w > best || (w == best && members[i] < members[best_i])) {
        best = w;
        best_i = i;
      }
    }
    owner[s] = best_i;
  }
  return owner;
}

} // namespace eventide

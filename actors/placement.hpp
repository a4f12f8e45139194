#pragma once

#include <cstdint>
#include <string_view>

namespace eventide {

/// A 64-bit hash of `key` that is the same on every node, build and run
/// (routing depends on it: never change it for an existing data dir).
uint64_t stable_key_hash(std::string_view key);

/// The shard that owns `key`: hash(key) % shards (DESIGN.md §1).
uint32_t shard_of(std::string_view key, uint32_t shards);

} // namespace eventide

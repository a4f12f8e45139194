#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace eventide {

/// A 64-bit hash of `key` that is the same on every node, build and run
/// (routing depends on it: never change it for an existing data dir).
uint64_t stable_key_hash(std::string_view key);

/// The shard that owns `key`: hash(key) % shards (DESIGN.md §1).
uint32_t shard_of(std::string_view key, uint32_t shards);

/// Rendezvous (highest random weight) placement of `shards` shards over
/// `members` (node names): shard s goes to the member with the highest
/// weight(name, s). Every node computes the same answer from the same set
/// of names, in any order, and a member joining or leaving moves only the
/// shards it wins or held. Returns the owner's index in `members` per
/// shard; empty when `members` is.
std::vector<std::size_t> place_shards(const std::vector<std::string>& members,
                                      uint32_t shards);

} // namespace eventide

#include "actors/placement.hpp"

#include <string>
#include <vector>

#include <doctest/doctest.h>

using namespace eventide;

TEST_SUITE("placement") {

TEST_CASE("the key hash is fixed across builds and runs") {
  // Pinned values: a change here re-routes every existing key.
  CHECK(stable_key_hash("") == 0xefd01f60ba992926ull);
  CHECK(stable_key_hash("user:42") == 0x998817bee6718248ull);
  CHECK(shard_of("user:42", 64) == 8);
  CHECK(shard_of("user:42", 64) == stable_key_hash("user:42") % 64);
  CHECK(shard_of("user:42", 64) == shard_of(std::string{"user:42"}, 64));
}

TEST_CASE("keys spread evenly over the shards") {
  constexpr uint32_t shards = 64;
  std::vector<int> counts(shards, 0);
  for (int i = 0; i < 64000; ++i)
    ++counts[shard_of("k" + std::to_string(i), shards)];
  for (auto n : counts) {
    CHECK(n > 800);
    CHECK(n < 1200);
  }
}

TEST_CASE("a single shard owns every key") {
  CHECK(shard_of("anything", 1) == 0);
}

}

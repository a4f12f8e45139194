#include "messages/event_batch.hpp"

#include <algorithm>
#include <cstdint>
#include <random>
#include <set>
#include <string>
#include <vector>

#include <boost/json.hpp>
#include <caf/binary_deserializer.hpp>
#include <caf/binary_serializer.hpp>
#include <doctest/doctest.h>

#include "actors/chunk_decoder.hpp"
#include "actors/placement.hpp"
#include "actors/shard_store.hpp"
#include "messages/messages.hpp"
#include "tests/test_events.hpp"

using namespace eventide;

namespace {

constexpr uint32_t shard_count = 4;
constexpr int64_t now = 1764000000000;

ingest_chunk ndjson(const std::vector<std::string>& lines) {
  ingest_chunk chunk;
  for (const auto& line : lines)
    chunk.data += line + "\n";
  chunk.line_count = lines.size();
  return chunk;
}

/// Lines of every op and value kind, a rejected one and a blank one.
std::vector<std::string> mixed_lines() {
  return {
    R"({"id":"e1","key":"user:1","op":"set","data":{"s":"x\"y","b":true,"n":null,"a":[1,{"q":2}],"o":{"k":"v"}}})",
    R"({"id":"e2","key":"user:2","op":"incr","data":{"i":-3,"r":2.5,"big":1e3},"ts":17})",
    R"({"id":"e3","key":"user:1","op":"del","data":{"s":0}})",
    R"({"id":"e4","key":"user:3","op":"del"})",
    R"({"id":"bad","key":"user:1","op":"incr","data":{"b":1}})",
    "",
    R"({"id":"e5","key":"ключ","data":{"caf\u00e9":18446744073709551615}})",
  };
}

decoded_chunk decode(const std::vector<std::string>& lines) {
  decoded_chunk out;
  decode_chunk(ndjson(lines), shard_count, input_limits{}, now, out);
  return out;
}

std::vector<char> serialize(event_batch& batch) {
  std::vector<char> buf;
  caf::binary_serializer sink{nullptr, buf};
  auto err = sink(batch);
  REQUIRE(!err);
  return buf;
}

event_batch deserialize(const std::vector<char>& buf) {
  event_batch batch;
  caf::binary_deserializer source{nullptr, buf};
  auto err = source(batch);
  REQUIRE(!err);
  return batch;
}

void check_same(const test::event& a, const test::event& b) {
  CHECK(a.seq == b.seq);
  CHECK(a.id == b.id);
  CHECK(a.key == b.key);
  CHECK(a.op == b.op);
  CHECK(a.has_data == b.has_data);
  CHECK(a.has_ts == b.has_ts);
  CHECK(a.ts == b.ts);
  REQUIRE(a.data.size() == b.data.size());
  for (std::size_t i = 0; i < a.data.size(); ++i) {
    CHECK(a.data[i].name == b.data[i].name);
    CHECK(a.data[i].value.type == b.data[i].value.type);
    CHECK(a.data[i].value.integer == b.data[i].value.integer);
    CHECK(a.data[i].value.real == b.data[i].value.real);
    CHECK(a.data[i].value.raw == b.data[i].value.raw);
  }
}

/// The event a line means, read with Boost.JSON's DOM instead of the codec
/// (for lines of plain strings and numbers that fit their types).
test::event event_from_dom(const std::string& line, uint64_t seq) {
  auto obj = boost::json::parse(line).as_object();
  test::event ev;
  ev.seq = seq;
  ev.id = obj.at("id").as_string();
  ev.key = obj.at("key").as_string();
  auto op = obj.contains("op") ? std::string(obj.at("op").as_string())
                               : std::string("set");
  ev.op = op == "set" ? op_code::set : op == "incr" ? op_code::incr
                                                    : op_code::del;
  ev.has_ts = obj.contains("ts");
  ev.ts = ev.has_ts ? obj.at("ts").as_int64() : now;
  if (auto* data = obj.if_contains("data")) {
    ev.has_data = true;
    for (auto& member : data->as_object()) {
      test::field f;
      f.name = member.key();
      if (member.value().is_int64()) {
        f.value.type = value_kind::integer;
        f.value.integer = member.value().as_int64();
      } else if (member.value().is_double()) {
        f.value.type = value_kind::real;
        f.value.real = member.value().as_double();
      } else {
        f.value.raw = boost::json::serialize(member.value());
      }
      ev.data.push_back(std::move(f));
    }
  }
  return ev;
}

/// A random stream of set/incr/del lines over a few keys, with retries.
std::vector<std::string> random_lines(std::size_t n) {
  std::mt19937_64 rng{7};
  std::vector<std::string> lines;
  for (std::size_t i = 0; i < n; ++i) {
    auto key = "k" + std::to_string(rng() % 37);
    auto id = "e" + std::to_string(rng() % (n / 2)); // some duplicates
    auto line = R"({"id":")" + id + R"(","key":")" + key + "\"";
    switch (rng() % 5) {
      case 0:
        line += R"(,"op":"del"})";
        break;
      case 1:
        line += R"(,"op":"del","data":{"f)" + std::to_string(rng() % 4)
                + R"(":1}})";
        break;
      case 2:
        line += R"(,"op":"set","data":{"f)" + std::to_string(rng() % 4)
                + R"(":"s)" + std::to_string(rng() % 9) + R"("}})";
        break;
      default:
        line += R"(,"op":"incr","ts":)" + std::to_string(i) + R"(,"data":{"f)"
                + std::to_string(rng() % 4) + "\":"
                + (rng() % 2 ? std::to_string(rng() % 100) : "0.5") + "}}";
    }
    lines.push_back(line);
  }
  return lines;
}

std::vector<shard_store> make_stores() {
  std::vector<shard_store> stores;
  for (uint32_t s = 0; s < shard_count; ++s)
    stores.emplace_back(s, shard_limits{1000});
  return stores;
}

} // namespace

TEST_SUITE("event_batch") {

TEST_CASE("decoded batches hold every event with its strings and numbers") {
  auto lines = mixed_lines();
  auto out = decode(lines);
  REQUIRE(out.result.rejected.empty()); // "bad" fails only when applied
  std::vector<test::event> seen;
  for (uint32_t s = 0; s < shard_count; ++s) {
    const auto& batch = out.per_shard[s];
    CHECK(batch.shard == s);
    CHECK(batch.well_formed());
    for (std::size_t i = 0; i < batch.size(); ++i) {
      CHECK(batch[i].key_hash() == stable_key_hash(batch[i].key()));
      CHECK(shard_of(batch[i].key(), shard_count) == s);
      seen.push_back(test::to_event(batch[i]));
    }
  }
  REQUIRE(seen.size() == 6);
  std::sort(seen.begin(), seen.end(),
            [](auto& a, auto& b) { return a.seq < b.seq; });
  CHECK(seen[0].data[0].value.raw == R"("x\"y")");
  CHECK(seen[0].data[3].value.raw == R"([1,{"q":2}])");
  CHECK(seen[0].ts == now);
  CHECK(seen[1].data[0].value.integer == -3);
  CHECK(seen[1].data[2].value.type == value_kind::real);
  CHECK(seen[1].ts == 17);
  CHECK_FALSE(seen[3].has_data);
  CHECK(seen[5].seq == 7); // the blank line took 6
  CHECK(seen[5].key == "ключ");
  CHECK(seen[5].data[0].name == "café");
  CHECK(seen[5].data[0].value.raw == "18446744073709551615");
}

TEST_CASE("a batch is exactly sized and holds only its own strings") {
  auto out = decode(mixed_lines());
  std::size_t text = 0;
  for (const auto& batch : out.per_shard) {
    // (libstdc++ rounds a small string's first allocation up to 30)
    CHECK(batch.text.capacity() <= std::max<std::size_t>(batch.text.size(),
                                                         30));
    CHECK(batch.events.capacity() == batch.events.size());
    CHECK(batch.fields.capacity() == batch.fields.size());
    text += batch.text.size();
  }
  CHECK(text == out.scratch.text.size());
}

TEST_CASE("a batch survives CAF binary serialization unchanged") {
  auto out = decode(mixed_lines());
  for (auto& batch : out.per_shard) {
    auto copy = deserialize(serialize(batch));
    CHECK(copy.shard == batch.shard);
    CHECK(copy.text == batch.text);
    CHECK(copy.well_formed());
    REQUIRE(copy.size() == batch.size());
    for (std::size_t i = 0; i < batch.size(); ++i) {
      check_same(test::to_event(copy[i]), test::to_event(batch[i]));
      CHECK(copy[i].key_hash() == batch[i].key_hash());
    }
  }
}

TEST_CASE("a batch with an offset out of range is not well formed") {
  auto batch = test::to_batch(
    {test::event{1, "a", "k", op_code::set, true, {{"f", {}}}, true, 5}});
  REQUIRE(batch.well_formed());
  auto bad_key = batch;
  bad_key.events[0].key_size = 200;
  CHECK_FALSE(bad_key.well_formed());
  auto bad_fields = batch;
  bad_fields.events[0].field_count = 2;
  CHECK_FALSE(bad_fields.well_formed());
  auto bad_raw = batch;
  bad_raw.fields[0].raw_size = 1000;
  CHECK_FALSE(bad_raw.well_formed());
  auto huge = batch;
  huge.fields[0].name_offset = 0xFFFFFFFF;
  CHECK_FALSE(huge.well_formed());
}

TEST_CASE("append moves an event between batches keeping its views") {
  auto first = test::to_batch(
    {test::event{1, "first", "k1", op_code::set, true,
                 {{"a", {value_kind::raw, 0, 0, "[1]"}}}, false, 0}});
  auto second = test::to_batch(
    {test::event{2, "second", "k2", op_code::incr, true,
                 {{"b", {value_kind::integer, 4, 0, ""}},
                  {"c", {value_kind::real, 0, 1.5, ""}}},
                 true, 9}});
  event_batch target;
  target.append(second, 0, {0, second.text.size()});
  target.append(first, 0, {0, first.text.size()});
  REQUIRE(target.size() == 2);
  CHECK(target.well_formed());
  check_same(test::to_event(target[0]), test::to_event(second[0]));
  check_same(test::to_event(target[1]), test::to_event(first[0]));
  CHECK(target.text == second.text + first.text);
}

TEST_CASE("decoding then applying gives what applying the events gives") {
  // The decoder's batches against events read independently with
  // Boost.JSON's DOM and packed one by one: same outcomes, same records.
  auto lines = random_lines(3000);
  auto decoded = decode(lines);
  REQUIRE(decoded.result.rejected.empty());
  std::vector<std::vector<test::event>> expected(shard_count);
  for (std::size_t i = 0; i < lines.size(); ++i) {
    auto ev = event_from_dom(lines[i], i + 1);
    expected[shard_of(ev.key, shard_count)].push_back(std::move(ev));
  }
  auto via_codec = make_stores();
  auto via_events = make_stores();
  std::set<std::string> keys;
  for (uint32_t s = 0; s < shard_count; ++s) {
    REQUIRE(decoded.per_shard[s].size() == expected[s].size());
    for (std::size_t i = 0; i < expected[s].size(); ++i) {
      check_same(test::to_event(decoded.per_shard[s][i]), expected[s][i]);
      keys.insert(expected[s][i].key);
    }
    auto a = via_codec[s].apply(decoded.per_shard[s]);
    auto b = via_events[s].apply(test::to_batch(expected[s]));
    CHECK(a.applied == b.applied);
    CHECK(a.duplicates == b.duplicates);
    REQUIRE(a.rejected.size() == b.rejected.size());
    for (std::size_t i = 0; i < a.rejected.size(); ++i) {
      CHECK(a.rejected[i].seq == b.rejected[i].seq);
      CHECK(a.rejected[i].code == b.rejected[i].code);
      CHECK(a.rejected[i].detail == b.rejected[i].detail);
    }
  }
  for (const auto& key : keys) {
    auto s = shard_of(key, shard_count);
    CHECK(via_codec[s].get(key) == via_events[s].get(key));
  }
}

TEST_CASE("applied batches give the records of DESIGN.md") {
  auto out = decode(mixed_lines());
  auto stores = make_stores();
  std::vector<rejection> rejected;
  for (uint32_t s = 0; s < shard_count; ++s) {
    auto outcome = stores[s].apply(out.per_shard[s]);
    for (auto& r : outcome.rejected)
      rejected.push_back(r);
  }
  REQUIRE(rejected.size() == 1);
  CHECK(rejected[0].seq == 5);
  CHECK(rejected[0].id == "bad");
  CHECK(rejected[0].code == error_code::field_not_numeric);
  CHECK(rejected[0].detail == "incr of field b holds a non-number");
  auto get = [&](const std::string& key) {
    return stores[shard_of(key, shard_count)].get(key);
  };
  CHECK(*get("user:1")
        == R"({"key":"user:1","fields":{"b":true,"n":null,"a":[1,{"q":2}],)"
           R"("o":{"k":"v"}},"events":2,"first_ts":1764000000000,)"
           R"("last_ts":1764000000000,"version":2})");
  CHECK(*get("user:2")
        == R"({"key":"user:2","fields":{"i":-3,"r":2.5,"big":1000.0},)"
           R"("events":1,"first_ts":17,"last_ts":17,"version":1})");
  CHECK_FALSE(get("user:3"));
  CHECK(*get("ключ")
        == R"({"key":"ключ","fields":{"café":18446744073709551615},)"
           R"("events":1,"first_ts":1764000000000,)"
           R"("last_ts":1764000000000,"version":1})");
}

}

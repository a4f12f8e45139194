#include "actors/shard_store.hpp"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <deque>
#include <limits>
#include <random>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include <boost/json.hpp>
#include <doctest/doctest.h>

#include "actors/dedup_window.hpp"

using namespace eventide;

namespace {

constexpr int64_t max_i64 = std::numeric_limits<int64_t>::max();
constexpr int64_t min_i64 = std::numeric_limits<int64_t>::min();

field int_field(std::string name, int64_t x) {
  field f;
  f.name = std::move(name);
  f.value.type = field_value::kind::integer;
  f.value.integer = x;
  return f;
}

field real_field(std::string name, double x) {
  field f;
  f.name = std::move(name);
  f.value.type = field_value::kind::real;
  f.value.real = x;
  return f;
}

field raw_field(std::string name, std::string json) {
  field f;
  f.name = std::move(name);
  f.value.type = field_value::kind::raw;
  f.value.raw = std::move(json);
  return f;
}

event make_event(std::string id, std::string key, op_code op,
                 std::vector<field> data, int64_t ts = 1000) {
  event ev;
  ev.id = std::move(id);
  ev.key = std::move(key);
  ev.op = op;
  ev.has_data = true;
  ev.data = std::move(data);
  ev.has_ts = true;
  ev.ts = ts;
  return ev;
}

event set_event(std::string id, std::string key, std::vector<field> data,
                int64_t ts = 1000) {
  return make_event(std::move(id), std::move(key), op_code::set,
                    std::move(data), ts);
}

event incr_event(std::string id, std::string key, std::vector<field> data,
                 int64_t ts = 1000) {
  return make_event(std::move(id), std::move(key), op_code::incr,
                    std::move(data), ts);
}

event del_record_event(std::string id, std::string key, int64_t ts = 1000) {
  auto ev = make_event(std::move(id), std::move(key), op_code::del, {}, ts);
  ev.has_data = false;
  return ev;
}

/// Applies a single event.
apply_outcome apply1(shard_store& store, event ev) {
  std::vector<event> batch;
  batch.push_back(std::move(ev));
  return store.apply(batch);
}

/// The record of `key` parsed back, or null when absent.
boost::json::value record_of(const shard_store& store, std::string_view key) {
  auto text = store.get(key);
  if (!text)
    return nullptr;
  boost::json::error_code ec;
  auto parsed = boost::json::parse(*text, ec);
  REQUIRE_MESSAGE(!ec, "invalid JSON: " << *text);
  return parsed;
}

const boost::json::value& field_of(const boost::json::value& rec,
                                   std::string_view name) {
  return rec.at("fields").at(name);
}

shard_store make_store(std::size_t window = 1000) {
  return shard_store{7, shard_limits{window}};
}

} // namespace

TEST_SUITE("shard_store") {

TEST_CASE("set creates a record and replaces fields in place") {
  auto store = make_store();
  CHECK(apply1(store, set_event("e1", "k", {int_field("a", 1),
                                            raw_field("b", "\"x\"")}))
          .applied
        == 1);
  apply1(store, set_event("e2", "k", {raw_field("a", "[1,2]"),
                                      real_field("c", 2.5)}));
  CHECK(*store.get("k")
        == R"({"key":"k","fields":{"a":[1,2],"b":"x","c":2.5},)"
           R"("events":2,"first_ts":1000,"last_ts":1000,"version":2})");
}

TEST_CASE("incr adds integers and treats a missing field as zero") {
  auto store = make_store();
  apply1(store, incr_event("e1", "k", {int_field("n", 5)}));
  apply1(store, incr_event("e2", "k", {int_field("n", -7), int_field("m", 3)}));
  auto rec = record_of(store, "k");
  CHECK(field_of(rec, "n").is_int64());
  CHECK(field_of(rec, "n").as_int64() == -2);
  CHECK(field_of(rec, "m").as_int64() == 3);
}

TEST_CASE("incr mixing integer and real gives a real in both orders") {
  auto store = make_store();
  apply1(store,
         set_event("e1", "k", {int_field("i", 1), real_field("d", 1.5)}));
  apply1(store, incr_event("e2", "k", {real_field("i", 0.25),
                                       int_field("d", 2)}));
  auto rec = record_of(store, "k");
  CHECK(field_of(rec, "i").is_double());
  CHECK(field_of(rec, "i").as_double() == 1.25);
  CHECK(field_of(rec, "d").is_double());
  CHECK(field_of(rec, "d").as_double() == 3.5);
  SUBCASE("a real delta on a missing field stays a real") {
    apply1(store, incr_event("e3", "k", {real_field("z", 2.0)}));
    CHECK(store.get("k")->find("\"z\":2.0") != std::string::npos);
  }
}

TEST_CASE("incr overflowing int64 upward rejects the whole event") {
  auto store = make_store();
  apply1(store, set_event("e1", "k", {int_field("a", 1),
                                      int_field("big", max_i64)}));
  auto before = *store.get("k");
  auto out = apply1(store, incr_event("e2", "k", {int_field("a", 10),
                                                  int_field("big", 1)}));
  CHECK(out.applied == 0);
  REQUIRE(out.rejected.size() == 1);
  CHECK(out.rejected[0].code == error_code::overflow);
  CHECK(out.rejected[0].id == "e2");
  CHECK(*store.get("k") == before); // "a" untouched, version unchanged
}

TEST_CASE("incr overflowing int64 downward rejects the whole event") {
  auto store = make_store();
  apply1(store, set_event("e1", "k", {int_field("small", min_i64)}));
  auto before = *store.get("k");
  auto out = apply1(store, incr_event("e2", "k", {int_field("small", -1)}));
  REQUIRE(out.rejected.size() == 1);
  CHECK(out.rejected[0].code == error_code::overflow);
  CHECK(*store.get("k") == before);
}

TEST_CASE("a rejected id is not remembered and a corrected retry applies") {
  auto store = make_store();
  apply1(store, set_event("e1", "k", {int_field("n", max_i64)}));
  CHECK(apply1(store, incr_event("e2", "k", {int_field("n", 1)}))
          .rejected.size()
        == 1);
  auto retry = apply1(store, incr_event("e2", "k", {int_field("n", -1)}));
  CHECK(retry.applied == 1);
  CHECK(retry.duplicates == 0);
  CHECK(field_of(record_of(store, "k"), "n").as_int64() == max_i64 - 1);
  CHECK(apply1(store, incr_event("e2", "k", {int_field("n", -1)})).duplicates
        == 1);
}

TEST_CASE("a rejected incr on an absent key creates no record") {
  auto store = make_store();
  auto out = apply1(store, incr_event("e1", "k", {int_field("a", 1),
                                                  raw_field("b", "\"s\"")}));
  CHECK(out.rejected.size() == 1);
  CHECK(!store.get("k"));
  CHECK(store.stats().keys == 0);
}

TEST_CASE("incr producing a non-finite real rejects as overflow") {
  auto store = make_store();
  apply1(store, set_event("e1", "k", {real_field("d", 1.7e308)}));
  auto out = apply1(store, incr_event("e2", "k", {real_field("d", 1.7e308)}));
  REQUIRE(out.rejected.size() == 1);
  CHECK(out.rejected[0].code == error_code::overflow);
}

TEST_CASE("incr on a raw field rejects the event as field_not_numeric") {
  auto store = make_store();
  apply1(store, set_event("e1", "k", {raw_field("country", "\"DE\""),
                                      int_field("n", 1)}));
  auto out = apply1(store, incr_event("e2", "k", {int_field("n", 1),
                                                  int_field("country", 1)}));
  REQUIRE(out.rejected.size() == 1);
  CHECK(out.rejected[0].code == error_code::field_not_numeric);
  CHECK(!out.rejected[0].detail.empty());
  auto rec = record_of(store, "k");
  CHECK(field_of(rec, "n").as_int64() == 1);
  CHECK(rec.at("version").as_int64() == 1);
}

TEST_CASE("del with data removes the named fields only") {
  auto store = make_store();
  apply1(store, set_event("e1", "k", {int_field("a", 1), int_field("b", 2),
                                      int_field("c", 3)}));
  auto out = apply1(store, make_event("e2", "k", op_code::del,
                                      {raw_field("b", "null"),
                                       raw_field("nope", "null")},
                                      2000));
  CHECK(out.applied == 1);
  CHECK(*store.get("k")
        == R"({"key":"k","fields":{"a":1,"c":3},)"
           R"("events":2,"first_ts":1000,"last_ts":2000,"version":2})");
  SUBCASE("a field written again after del goes last") {
    apply1(store, set_event("e3", "k", {int_field("b", 9)}));
    CHECK(store.get("k")->find(R"({"a":1,"c":3,"b":9})") != std::string::npos);
  }
}

TEST_CASE("del of fields on an absent key is applied without a record") {
  auto store = make_store();
  auto ev = make_event("e1", "k", op_code::del, {raw_field("a", "null")});
  CHECK(apply1(store, ev).applied == 1);
  CHECK(!store.get("k"));
  CHECK(apply1(store, ev).duplicates == 1); // remembered in the window
}

TEST_CASE("del without data removes the whole record; a rewrite starts over") {
  auto store = make_store();
  apply1(store, set_event("e1", "k", {int_field("a", 1)}, 100));
  apply1(store, set_event("e2", "k", {int_field("b", 2)}, 200));
  CHECK(apply1(store, del_record_event("e3", "k", 300)).applied == 1);
  CHECK(!store.get("k"));
  CHECK(apply1(store, del_record_event("e4", "k", 400)).applied == 1);
  apply1(store, set_event("e5", "k", {int_field("c", 3)}, 500));
  CHECK(*store.get("k")
        == R"({"key":"k","fields":{"c":3},)"
           R"("events":1,"first_ts":500,"last_ts":500,"version":1})");
}

TEST_CASE("events, version, first_ts and last_ts follow applied events") {
  auto store = make_store();
  apply1(store, set_event("e1", "k", {int_field("a", 1)}, 1764000000123));
  apply1(store, incr_event("e2", "k", {int_field("a", 1)}, 1764000000500));
  apply1(store, incr_event("e2", "k", {int_field("a", 1)}, 1764000000600));
  apply1(store, incr_event("e3", "k", {raw_field("a", "1")}, 1764000000700));
  apply1(store, set_event("e4", "k", {}, 1764000009000));
  auto rec = record_of(store, "k");
  CHECK(rec.at("events").as_int64() == 3);
  CHECK(rec.at("version").as_int64() == 3);
  CHECK(rec.at("first_ts").as_int64() == 1764000000123);
  CHECK(rec.at("last_ts").as_int64() == 1764000009000);
  CHECK(field_of(rec, "a").as_int64() == 2);
}

TEST_CASE("get renders the DESIGN.md record format exactly") {
  auto store = make_store();
  std::vector<event> batch;
  batch.push_back(incr_event("e1", "user:42", {int_field("clicks", 1),
                                               real_field("spent", 9.5)},
                             1764000000123));
  batch.push_back(set_event("e2", "user:42", {raw_field("country", "\"DE\"")},
                            1764000001000));
  batch.push_back(incr_event("e3", "user:42", {int_field("clicks", 1),
                                               real_field("spent", 9.5)},
                             1764000002000));
  batch.push_back(incr_event("e4", "user:42", {int_field("clicks", 1)},
                             1764000003000));
  batch.push_back(incr_event("e5", "user:42", {int_field("clicks", 0)},
                             1764000009000));
  CHECK(store.apply(batch).applied == 5);
  auto text = *store.get("user:42");
  CHECK(text
        == R"({"key":"user:42","fields":{"clicks":3,"spent":19.0,)"
           R"("country":"DE"},"events":5,"first_ts":1764000000123,)"
           R"("last_ts":1764000009000,"version":5})");
  auto expected = boost::json::parse(
    R"({"key":"user:42","fields":{"clicks":3,"spent":19.0,"country":"DE"},)"
    R"("events":5,"first_ts":1764000000123,"last_ts":1764000009000,)"
    R"("version":5})");
  CHECK(boost::json::parse(text) == expected);
  CHECK(!store.get("user:43"));
}

TEST_CASE("get escapes keys and field names") {
  auto store = make_store();
  std::string key = "q\"b\\s\n\t\x01/\xC3\xA9";
  apply1(store, set_event("e1", key, {int_field("f\"\x1f", 1)}));
  auto text = *store.get(key);
  CHECK(text.find(R"("key":"q\"b\\s\n\t\u0001/)"
                  "\xC3\xA9\"")
        != std::string::npos);
  CHECK(text.find(R"("f\"\u001f":1)") != std::string::npos);
  auto rec = boost::json::parse(text);
  CHECK(rec.at("key").as_string() == key);
  CHECK(rec.at("fields").as_object().begin()->key() == "f\"\x1f");
}

TEST_CASE("doubles render shortest round-trip text that stays a double") {
  auto store = make_store();
  std::vector<double> values{19.0, -3.0,   0.1,    1e20,   1e300, -0.0,
                             5e-324, 1.5e-7, 123456789.125, 2.0 / 3.0};
  for (std::size_t i = 0; i < values.size(); ++i)
    apply1(store, set_event("e" + std::to_string(i), "k",
                            {real_field("d" + std::to_string(i), values[i])}));
  auto text = *store.get("k");
  CHECK(text.find("\"d0\":19.0,") != std::string::npos);
  CHECK(text.find("\"d1\":-3.0,") != std::string::npos);
  CHECK(text.find("\"d2\":0.1,") != std::string::npos);
  auto rec = boost::json::parse(text);
  for (std::size_t i = 0; i < values.size(); ++i) {
    const auto& v = field_of(rec, "d" + std::to_string(i));
    CAPTURE(i);
    REQUIRE(v.is_double());
    CHECK(v.as_double() == values[i]);
    CHECK(std::signbit(v.as_double()) == std::signbit(values[i]));
  }
}

TEST_CASE("duplicates inside one batch and across batches are skipped") {
  auto store = make_store();
  std::vector<event> batch;
  batch.push_back(incr_event("e1", "k", {int_field("n", 1)}));
  batch.push_back(incr_event("e1", "k", {int_field("n", 1)}));
  batch.push_back(incr_event("e2", "k", {int_field("n", 1)}));
  batch.push_back(incr_event("e1", "other", {int_field("n", 1)}));
  auto out = store.apply(batch);
  CHECK(out.applied == 3);
  CHECK(out.duplicates == 1);
  std::vector<event> again;
  again.push_back(incr_event("e2", "k", {int_field("n", 1)}));
  again.push_back(incr_event("e3", "k", {int_field("n", 1)}));
  out = store.apply(again);
  CHECK(out.applied == 1);
  CHECK(out.duplicates == 1);
  CHECK(field_of(record_of(store, "k"), "n").as_int64() == 3);
}

TEST_CASE("a full window evicts its oldest pair first") {
  auto store = make_store(3);
  for (auto id : {"a", "b", "c", "d"})
    CHECK(apply1(store, incr_event(id, "k", {int_field("n", 1)})).applied
          == 1);
  // "a" was evicted by "d"; "b", "c", "d" are still remembered.
  CHECK(apply1(store, incr_event("b", "k", {int_field("n", 1)})).duplicates
        == 1);
  CHECK(apply1(store, incr_event("d", "k", {int_field("n", 1)})).duplicates
        == 1);
  CHECK(apply1(store, incr_event("a", "k", {int_field("n", 1)})).applied
        == 1);
  // Applying "a" again evicted "b".
  CHECK(apply1(store, incr_event("b", "k", {int_field("n", 1)})).applied
        == 1);
  CHECK(field_of(record_of(store, "k"), "n").as_int64() == 6);
}

TEST_CASE("a window of one remembers only the last pair") {
  auto store = make_store(1);
  CHECK(apply1(store, set_event("a", "k", {})).applied == 1);
  CHECK(apply1(store, set_event("a", "k", {})).duplicates == 1);
  CHECK(apply1(store, set_event("b", "k", {})).applied == 1);
  CHECK(apply1(store, set_event("a", "k", {})).applied == 1);
}

TEST_CASE("window 0 disables de-duplication") {
  auto store = make_store(0);
  std::vector<event> batch;
  for (int i = 0; i < 3; ++i)
    batch.push_back(incr_event("same", "k", {int_field("n", 1)}));
  auto out = store.apply(batch);
  CHECK(out.applied == 3);
  CHECK(out.duplicates == 0);
  CHECK(field_of(record_of(store, "k"), "n").as_int64() == 3);
}

TEST_CASE("fingerprints do not depend on where key and id are split") {
  CHECK(make_fingerprint("ab", "c") != make_fingerprint("a", "bc"));
  CHECK(make_fingerprint("", "abc") != make_fingerprint("abc", ""));
  CHECK(make_fingerprint("k", std::string(8, '\0'))
        != make_fingerprint("k", std::string(7, '\0')));
  CHECK(make_fingerprint("ab", "c") == make_fingerprint("ab", "c"));
  auto fp = make_fingerprint("user:42", "e-1");
  CHECK(fp.lo != fp.hi);
  auto store = make_store();
  CHECK(apply1(store, set_event("c", "ab", {})).applied == 1);
  CHECK(apply1(store, set_event("bc", "a", {})).applied == 1);
}

TEST_CASE("fingerprints of many similar pairs are distinct") {
  std::set<std::pair<uint64_t, uint64_t>> seen;
  std::set<uint64_t> lows;
  for (int k = 0; k < 200; ++k)
    for (int i = 0; i < 500; ++i) {
      auto fp = make_fingerprint("user:" + std::to_string(k),
                                 "e-" + std::to_string(i));
      seen.emplace(fp.lo, fp.hi);
      lows.insert(fp.lo);
    }
  CHECK(seen.size() == 100000);
  CHECK(lows.size() == 100000);
}

TEST_CASE("the dedup window matches a reference FIFO at many sizes") {
  std::mt19937_64 rng(42);
  for (std::size_t cap : {1u, 2u, 3u, 7u, 16u, 17u, 100u, 1000u}) {
    CAPTURE(cap);
    dedup_window window(cap);
    std::deque<fingerprint> fifo;
    std::vector<fingerprint> universe;
    for (std::size_t i = 0; i < cap * 3 + 5; ++i)
      universe.push_back({rng(), rng()});
    for (int step = 0; step < 20000; ++step) {
      const auto& fp = universe[rng() % universe.size()];
      bool expected = false;
      for (const auto& x : fifo)
        expected = expected || x == fp;
      REQUIRE(window.contains(fp) == expected);
      if (expected)
        continue;
      window.insert(fp);
      fifo.push_back(fp);
      if (fifo.size() > cap)
        fifo.pop_front();
      REQUIRE(window.size() == fifo.size());
    }
  }
}

TEST_CASE("colliding home slots survive backward-shift deletion") {
  // Same low bits, so every entry probes from the same home slot.
  dedup_window window(8);
  for (uint64_t i = 0; i < 40; ++i) {
    window.insert({i << 32, i});
    for (uint64_t j = (i >= 7 ? i - 7 : 0); j <= i; ++j)
      REQUIRE(window.contains({j << 32, j}));
    if (i >= 8)
      REQUIRE(!window.contains({(i - 8) << 32, i - 8}));
  }
}

TEST_CASE("a 1,000,000-pair window costs at most 40 bytes per pair") {
  constexpr std::size_t pairs = 1000000;
  auto store = make_store(pairs);
  std::vector<event> batch;
  std::size_t seq = 0;
  for (std::size_t round = 0; round < 2; ++round) {
    for (std::size_t b = 0; b < pairs / 10000; ++b) {
      batch.clear();
      for (std::size_t i = 0; i < 10000; ++i)
        batch.push_back(del_record_event("e-" + std::to_string(seq++), "k"));
      REQUIRE(store.apply(batch).applied == 10000);
    }
  }
  auto st = store.stats();
  CHECK(st.keys == 0); // del of an absent key creates nothing
  CHECK(st.events_applied == 2 * pairs);
  double per_pair = static_cast<double>(st.bytes) / pairs;
  MESSAGE("dedup window bytes per pair: " << per_pair);
  CHECK(per_pair >= 16.0);
  CHECK(per_pair <= 40.0);
  // The newest million are remembered, the oldest million are forgotten.
  batch.clear();
  batch.push_back(del_record_event("e-" + std::to_string(2 * pairs - 1), "k"));
  batch.push_back(del_record_event("e-" + std::to_string(pairs), "k"));
  batch.push_back(del_record_event("e-" + std::to_string(pairs - 1), "k"));
  auto out = store.apply(batch);
  CHECK(out.duplicates == 2);
  CHECK(out.applied == 1);
}

TEST_CASE("stats count applied events, duplicates and rejections by code") {
  auto store = make_store();
  std::vector<event> batch;
  batch.push_back(set_event("e1", "a", {raw_field("s", "\"x\"")}));
  batch.push_back(set_event("e1", "a", {}));
  batch.push_back(incr_event("e2", "a", {int_field("s", 1)}));
  batch.push_back(incr_event("e3", "b", {int_field("n", max_i64)}));
  batch.push_back(incr_event("e4", "b", {int_field("n", 1)}));
  batch[4].seq = 44;
  auto out = store.apply(batch);
  CHECK(out.applied == 2);
  CHECK(out.duplicates == 1);
  REQUIRE(out.rejected.size() == 2);
  CHECK(out.rejected[0].code == error_code::field_not_numeric);
  CHECK(out.rejected[1].code == error_code::overflow);
  CHECK(out.rejected[1].seq == 44);
  auto st = store.stats();
  CHECK(st.shard == 7);
  CHECK(st.keys == 2);
  CHECK(st.events_applied == 2);
  CHECK(st.duplicates == 1);
  CHECK(st.rejected[static_cast<std::size_t>(error_code::field_not_numeric)]
        == 1);
  CHECK(st.rejected[static_cast<std::size_t>(error_code::overflow)] == 1);
  uint64_t total = 0;
  for (auto n : st.rejected)
    total += n;
  CHECK(total == 2);
  CHECK(st.bytes > 0);
}

TEST_CASE("bytes grow with held values and shrink when records go") {
  auto store = make_store(0);
  auto empty = store.stats().bytes;
  std::string big = "\"" + std::string(10000, 'x') + "\"";
  apply1(store, set_event("e1", "k", {raw_field("v", big)}));
  auto with_big = store.stats().bytes;
  CHECK(with_big >= empty + 10000);
  apply1(store, set_event("e2", "k", {int_field("v", 1)}));
  CHECK(store.stats().bytes < with_big - 9000);
  apply1(store, set_event("e3", "k", {raw_field("v", big)}));
  CHECK(store.erase("k"));
  CHECK(store.stats().bytes < with_big - 9000);
}

TEST_CASE("erase removes a record and reports whether it existed") {
  auto store = make_store();
  apply1(store, set_event("e1", "k", {int_field("n", 1)}));
  CHECK(store.erase("k"));
  CHECK(!store.get("k"));
  CHECK(!store.erase("k"));
  auto st = store.stats();
  CHECK(st.keys == 0);
  CHECK(st.events_applied == 1);
  // Erase leaves the window alone: the old pair is still a duplicate.
  CHECK(apply1(store, set_event("e1", "k", {int_field("n", 1)})).duplicates
        == 1);
  CHECK(!store.get("k"));
}

TEST_CASE("many keys stay findable while others are erased in any order") {
  auto store = make_store(0);
  constexpr int n = 5000;
  std::vector<event> batch;
  for (int i = 0; i < n; ++i)
    batch.push_back(set_event("e", "key-" + std::to_string(i),
                              {int_field("i", i)}));
  CHECK(store.apply(batch).applied == n);
  std::mt19937 rng(7);
  std::vector<int> order(n);
  for (int i = 0; i < n; ++i)
    order[i] = i;
  std::shuffle(order.begin(), order.end(), rng);
  std::set<int> erased;
  for (int k = 0; k < n / 2; ++k) {
    auto key = "key-" + std::to_string(order[k]);
    if (k % 2 == 0)
      REQUIRE(store.erase(key));
    else
      REQUIRE(apply1(store, del_record_event("d", key)).applied == 1);
    erased.insert(order[k]);
  }
  CHECK(store.stats().keys == n - n / 2);
  for (int i = 0; i < n; ++i) {
    auto key = "key-" + std::to_string(i);
    auto text = store.get(key);
    REQUIRE(text.has_value() == (erased.count(i) == 0));
    if (text)
      REQUIRE(field_of(boost::json::parse(*text), "i").as_int64() == i);
  }
  // Erased keys can be written again and start over.
  apply1(store, set_event("again", "key-" + std::to_string(order[0]), {}));
  CHECK(record_of(store, "key-" + std::to_string(order[0]))
          .at("version")
          .as_int64()
        == 1);
}

TEST_CASE("a default-constructed store works with de-dup disabled") {
  shard_store store;
  CHECK(apply1(store, set_event("e1", "k", {})).applied == 1);
  CHECK(apply1(store, set_event("e1", "k", {})).applied == 1);
  CHECK(store.stats().keys == 1);
}

} // TEST_SUITE

TEST_SUITE("shard_store") {

TEST_CASE("a snapshot restores records, de-dup window and counters") {
  auto store = make_store(50);
  for (int i = 0; i < 200; ++i)
    apply1(store, incr_event("e" + std::to_string(i),
                             "k" + std::to_string(i % 17),
                             {int_field("n", 1), real_field("r", 0.5)},
                             1000 + i));
  apply1(store, set_event("s", "k3", {raw_field("tags", R"(["a",{"b":1}])")}));
  apply1(store, set_event("s2", "gone", {int_field("x", 1)}));
  apply1(store, del_record_event("s3", "gone"));
  apply1(store, incr_event("bad", "k1", {raw_field("tags", "1")})); // rejected
  auto snap = store.snapshot(42);
  CHECK(snap.seq == 42);
  CHECK(snap.shard == 7);
  CHECK(snap.dedup.size() == 2 * 50);
  auto copy = make_store(50);
  copy.restore(snap);
  for (int k = 0; k < 17; ++k) {
    auto key = "k" + std::to_string(k);
    CHECK(copy.get(key) == store.get(key));
  }
  CHECK_FALSE(copy.get("gone"));
  auto a = store.stats();
  auto b = copy.stats();
  CHECK(a.keys == b.keys);
  CHECK(a.events_applied == b.events_applied);
  CHECK(a.duplicates == b.duplicates);
  CHECK(a.rejected == b.rejected);
  CHECK(b.dedup_ids == 50);
  // The window holds the same, newest, 50 pairs in the same order: a pair
  // inside it is a duplicate, one that fell out applies again, and the
  // next insert evicts the same oldest pair in both.
  for (auto* s : {&store, &copy}) {
    CHECK(apply1(*s, incr_event("e199", "k12", {int_field("n", 1)})).duplicates
          == 1);
    CHECK(apply1(*s, incr_event("e0", "k0", {int_field("n", 1)})).applied
          == 1);
  }
  CHECK(copy.get("k0") == store.get("k0"));
  CHECK(copy.snapshot(43).dedup == store.snapshot(43).dedup);
}

}

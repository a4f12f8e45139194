#include <algorithm>
#include <chrono>
#include <future>
#include <map>
#include <string>

#include <caf/all.hpp>
#include <doctest/doctest.h>

#include "actors/chunk_decoder.hpp"
#include "actors/parser.hpp"
#include "actors/placement.hpp"
#include "actors/router.hpp"
#include "actors/session.hpp"
#include "actors/shard.hpp"
#include "messages/introspection.hpp"
#include "messages/messages.hpp"

using namespace eventide;
using namespace std::chrono_literals;

namespace {

ingest_chunk ndjson(std::string data, uint64_t first_seq = 1,
                    std::vector<uint64_t> oversized = {}) {
  ingest_chunk chunk;
  chunk.first_seq = first_seq;
  uint64_t lines = 0;
  for (char c : data)
    lines += c == '\n';
  if (!data.empty() && data.back() != '\n')
    ++lines;
  chunk.line_count = lines + oversized.size();
  chunk.data = std::move(data);
  chunk.oversized = std::move(oversized);
  return chunk;
}

struct engine_fixture {
  caf::actor_system_config cfg;
  std::unique_ptr<caf::actor_system> sys;
  std::vector<caf::actor> shards;
  caf::actor parser;
  caf::actor router;

  engine_fixture() {
    register_message_types(cfg);
    cfg.set("scheduler.max-threads", 2);
    sys = std::make_unique<caf::actor_system>(cfg);
    for (uint32_t i = 0; i < 4; ++i)
      shards.push_back(spawn_shard(*sys, i, shard_options{shard_limits{1000}}));
    parser = spawn_parser(*sys, 0, shards, input_limits{}, 5s);
    router = spawn_router(*sys, shards, {parser}, 5s, 1h, "test-node");
  }

  ~engine_fixture() {
    caf::anon_send_exit(router, caf::exit_reason::user_shutdown);
    caf::anon_send_exit(parser, caf::exit_reason::user_shutdown);
    for (auto& s : shards)
      caf::anon_send_exit(s, caf::exit_reason::user_shutdown);
  }

  chunk_result ingest(ingest_chunk chunk, caf::actor dest = {}) {
    caf::scoped_actor self{*sys};
    chunk_result out;
    self->request(dest ? dest : parser, 5s, ingest_atom::value, chunk)
      .receive([&](chunk_result& r) { out = std::move(r); },
               [&](caf::error& e) { FAIL(sys->render(e)); });
    return out;
  }

  key_reply lookup(const std::string& key) {
    caf::scoped_actor self{*sys};
    key_reply out;
    self->request(router, 5s, lookup_atom::value, key)
      .receive([&](key_reply& r) { out = std::move(r); },
               [&](caf::error& e) { FAIL(sys->render(e)); });
    return out;
  }
};

} // namespace

TEST_SUITE("chunk_decoder") {

TEST_CASE("oversized lines keep their sequence numbers between data lines") {
  decoded_chunk out;
  auto chunk = ndjson("{\"id\":\"a\",\"key\":\"k\",\"data\":{}}\n"
                      "\n"
                      "{\"id\":\"b\",\"key\":\"k\",\"data\":{}}\n",
                      10, {11, 14});
  decode_chunk(chunk, 4, input_limits{}, 1000, out);
  CHECK(out.result.first_seq == 10);
  CHECK(out.result.line_count == 5);
  REQUIRE(out.result.rejected.size() == 2);
  CHECK(out.result.rejected[0].seq == 11);
  CHECK(out.result.rejected[0].code == error_code::too_large);
  CHECK(out.result.rejected[1].seq == 14);
  auto& events = out.per_shard[shard_of("k", 4)];
  REQUIRE(events.size() == 2);
  CHECK(events[0].seq() == 10);
  CHECK(events[1].seq() == 13); // the blank line took 12
  CHECK(events[0].ts() == 1000);
}

TEST_CASE("past the list limit, rejections are only counted by code") {
  decoded_chunk out;
  auto chunk = ndjson("x\n{\"id\":\"a\"}\nx\nx\n"
                      "{\"id\":\"b\",\"key\":\"k\",\"data\":{}}\n",
                      1, {3});
  chunk.list_limit = 2;
  decode_chunk(chunk, 2, input_limits{}, 0, out);
  CHECK(out.result.line_count == 6);
  REQUIRE(out.result.rejected.size() == 2);
  CHECK(out.result.rejected[0].seq == 1);
  CHECK(out.result.rejected[1].seq == 2);
  REQUIRE(out.result.unlisted.size() == error_code_count);
  CHECK(out.result.unlisted[static_cast<size_t>(error_code::invalid_json)]
        == 2);
  CHECK(out.result.unlisted[static_cast<size_t>(error_code::too_large)] == 1);
  CHECK(rejected_count(out.result) == 5);
  CHECK(out.per_shard[shard_of("k", 2)].size() == 1);
  chunk.list_limit = 0; // no limit: every one listed
  decode_chunk(chunk, 2, input_limits{}, 0, out);
  CHECK(out.result.rejected.size() == 5);
  CHECK(out.result.unlisted.empty());
}

TEST_CASE("a last line without newline counts") {
  decoded_chunk out;
  decode_chunk(ndjson("{\"id\":\"a\",\"key\":\"k\",\"data\":{}}\nnot json"), 2,
               input_limits{}, 0, out);
  CHECK(out.result.line_count == 2);
  REQUIRE(out.result.rejected.size() == 1);
  CHECK(out.result.rejected[0].seq == 2);
  CHECK(out.result.rejected[0].code == error_code::invalid_json);
}

TEST_CASE("a JSON body is split into indexed events") {
  decoded_chunk out;
  ingest_chunk chunk;
  chunk.format = chunk_format::json_value;
  chunk.first_seq = 0;
  chunk.data = R"([{"id":"a","key":"k","data":{}},{"id":"b"},{"id":"c","key":"k","ts":5,"data":{}}])";
  decode_chunk(chunk, 3, input_limits{}, 99, out);
  CHECK_FALSE(out.result.not_json);
  CHECK(out.result.line_count == 3);
  REQUIRE(out.result.rejected.size() == 1);
  CHECK(out.result.rejected[0].seq == 1);
  CHECK(out.result.rejected[0].code == error_code::missing_field);
  auto& events = out.per_shard[shard_of("k", 3)];
  REQUIRE(events.size() == 2);
  CHECK(events[1].ts() == 5);
  chunk.data = "[1,";
  decode_chunk(chunk, 3, input_limits{}, 99, out);
  CHECK(out.result.not_json);
}

}

TEST_SUITE("actors") {

TEST_CASE("a chunk is applied by the owning shards and queried by key") {
  engine_fixture f;
  std::string data;
  for (int i = 0; i < 100; ++i)
    data += R"({"id":"e)" + std::to_string(i) + R"(","key":"k)"
            + std::to_string(i % 10) + R"(","op":"incr","data":{"n":1}})"
            + "\n";
  data += "{\"id\":\"bad\"}\n";
  auto res = f.ingest(ndjson(data));
  CHECK(res.first_seq == 1);
  CHECK(res.line_count == 101);
  CHECK(res.applied == 100);
  CHECK(res.duplicates == 0);
  REQUIRE(res.rejected.size() == 1);
  CHECK(res.rejected[0].seq == 101);
  CHECK(res.rejected[0].id == "bad");
  CHECK(res.rejected[0].code == error_code::missing_field);
  auto rec = f.lookup("k3");
  REQUIRE(rec.found);
  CHECK(rec.record.find(R"("n":10)") != std::string::npos);
  CHECK_FALSE(f.lookup("nope").found);

  SUBCASE("the same events again are duplicates") {
    auto again = f.ingest(ndjson(data));
    CHECK(again.applied == 0);
    CHECK(again.duplicates == 100);
    CHECK(f.lookup("k3").record.find(R"("n":10)") != std::string::npos);
  }
  SUBCASE("erase removes a key and stats count what happened") {
    caf::scoped_actor self{*f.sys};
    bool existed = false;
    self->request(f.router, 5s, erase_atom::value, std::string{"k3"})
      .receive([&](bool b) { existed = b; },
               [&](caf::error& e) { FAIL(f.sys->render(e)); });
    CHECK(existed);
    CHECK_FALSE(f.lookup("k3").found);
    system_totals stats;
    self->request(f.router, 5s, stats_atom::value)
      .receive([&](system_totals& s) { stats = s; },
               [&](caf::error& e) { FAIL(f.sys->render(e)); });
    CHECK(stats.node == "test-node");
    CHECK(stats.accepted == 100);
    CHECK(stats.keys == 9);
    CHECK(stats.rejected[static_cast<size_t>(error_code::missing_field)] == 1);
    CHECK(stats.rejected_total() == 1);
  }
  SUBCASE("the router lists every actor and shows a shard in depth") {
    caf::scoped_actor self{*f.sys};
    std::vector<actor_info> all;
    self->request(f.router, 5s, introspect_atom::value)
      .receive([&](std::vector<actor_info>& v) { all = std::move(v); },
               [&](caf::error& e) { FAIL(f.sys->render(e)); });
    std::map<std::string, int> kinds;
    uint64_t applied = 0;
    uint64_t keys = 0;
    const actor_info* busiest = nullptr;
    for (auto& a : all) {
      ++kinds[a.kind];
      CHECK(a.node == "test-node");
      CHECK(a.detail.empty());
      if (a.kind != "shard")
        continue;
      applied += a.applied;
      keys += a.keys;
      if (!busiest || a.applied > busiest->applied)
        busiest = &a;
    }
    CHECK(kinds["router"] == 1);
    CHECK(kinds["parser"] == 1);
    CHECK(kinds["shard"] == static_cast<int>(f.shards.size()));
    CHECK(applied == 100);
    CHECK(keys == 10);
    CHECK(std::is_sorted(all.begin(), all.end(),
                         [](auto& a, auto& b) { return a.id < b.id; }));
    REQUIRE(busiest != nullptr);
    actor_info deep;
    self->request(f.router, 5s, introspect_atom::value, busiest->id)
      .receive([&](actor_info& i) { deep = std::move(i); },
               [&](caf::error& e) { FAIL(f.sys->render(e)); });
    CHECK(deep.id == busiest->id);
    CHECK(deep.shard == busiest->shard);
    CHECK(deep.processed >= 1);
    CHECK(deep.detail.find(R"("hot_keys":[{"key":"k)") != std::string::npos);
    actor_info none;
    self->request(f.router, 5s, introspect_atom::value, uint64_t{999999})
      .receive([&](actor_info& i) { none = std::move(i); },
               [&](caf::error& e) { FAIL(f.sys->render(e)); });
    CHECK(none.id == 0);
  }
}

TEST_CASE("events of one connection for one key apply in order") {
  engine_fixture f;
  for (int i = 0; i < 20; ++i) {
    auto line = R"({"id":"s)" + std::to_string(i)
                + R"(","key":"order","op":"set","data":{"last":)"
                + std::to_string(i) + "}}\n";
    caf::anon_send(f.parser, ingest_atom::value,
                   ndjson(line, static_cast<uint64_t>(i) + 1));
  }
  auto res = f.ingest(ndjson(
    R"({"id":"final","key":"order","op":"incr","data":{"last":100}})"));
  CHECK(res.applied == 1);
  auto rec = f.lookup("order");
  REQUIRE(rec.found);
  CHECK(rec.record.find(R"("last":119)") != std::string::npos);
}

TEST_CASE("a session reports a chunk its parser cannot answer as rejected") {
  engine_fixture f;
  auto dead = spawn_parser(*f.sys, 9, f.shards, input_limits{}, 1s);
  caf::anon_send_exit(dead, caf::exit_reason::user_shutdown);
  std::promise<chunk_result> got;
  auto session = spawn_session(
    *f.sys, dead, [&](chunk_result r) { got.set_value(std::move(r)); }, 1s,
    "127.0.0.1:1");
  caf::anon_send(session, ingest_atom::value, ndjson("a\nb\nc\n", 7));
  auto fut = got.get_future();
  REQUIRE(fut.wait_for(10s) == std::future_status::ready);
  auto res = fut.get();
  CHECK(res.first_seq == 7);
  CHECK(res.line_count == 3);
  REQUIRE(res.rejected.size() == 3);
  CHECK(res.rejected[2].seq == 9);
  CHECK(res.rejected[0].code == error_code::internal);
  caf::anon_send_exit(session, caf::exit_reason::user_shutdown);
}

}

namespace {

struct silent_state {
  std::vector<caf::response_promise> held; // never delivered
};

/// A stand-in shard that accepts batches and never answers. (`index` only
/// keeps the spawn argument list non-empty: CAF 0.17's init_fun_factory
/// binds a null reference for argument-less functions, which UBSan reports.)
caf::behavior silent_shard(caf::stateful_actor<silent_state>* self,
                           uint32_t /* index */) {
  return {
    [=](apply_atom, const event_batch&) -> caf::result<apply_outcome> {
      self->state.held.push_back(self->make_response_promise());
      return self->state.held.back();
    },
  };
}

} // namespace

TEST_SUITE("actors") {

TEST_CASE("a shard that never answers is reported as overloaded") {
  caf::actor_system_config cfg;
  register_message_types(cfg);
  caf::actor_system sys{cfg};
  auto silent = sys.spawn(silent_shard, uint32_t{0});
  auto parser = spawn_parser(sys, 0, {silent}, input_limits{}, 100ms);
  caf::scoped_actor self{sys};
  chunk_result res;
  self
    ->request(parser, 10s, ingest_atom::value,
              ndjson("{\"id\":\"a\",\"key\":\"k\",\"data\":{}}\n\n"))
    .receive([&](chunk_result& r) { res = std::move(r); },
             [&](caf::error& e) { FAIL(sys.render(e)); });
  CHECK(res.line_count == 2);
  REQUIRE(res.rejected.size() == 1);
  CHECK(res.rejected[0].seq == 1);
  CHECK(res.rejected[0].code == error_code::overloaded);
  caf::anon_send_exit(parser, caf::exit_reason::user_shutdown);
  caf::anon_send_exit(silent, caf::exit_reason::user_shutdown);
}

}

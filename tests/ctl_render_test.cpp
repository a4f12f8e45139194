#include "app/ctl/render.hpp"

#include <sstream>

#include <boost/json/parse.hpp>
#include <doctest/doctest.h>

#include "app/ctl/json_view.hpp"
#include "app/ctl/send.hpp"
#include "app/ctl/top.hpp"

using namespace eventide::ctl;
namespace json = boost::json;

namespace {

json::object obj(std::string_view text) {
  return json::parse(text).as_object();
}

const char* actors_doc = R"({"node":"a","actors":[
  {"id":3,"name":"router","kind":"router","node":"a","shard":null,
   "mailbox":0,"processed":10,"applied":0,"rejected":0,"keys":0,"bytes":0,
   "busy_ns":1000000},
  {"id":12,"name":"shard-1","kind":"shard","node":"a","shard":1,
   "mailbox":2,"processed":500,"applied":400,"rejected":3,"keys":88,
   "bytes":9120,"busy_ns":5300000},
  {"id":11,"name":"shard-0","kind":"shard","node":"a","shard":0,
   "mailbox":0,"processed":900,"applied":800,"rejected":0,"keys":90,
   "bytes":2048,"busy_ns":1200000000},
  {"id":5,"name":"parser-0","kind":"parser","node":"a","shard":null,
   "mailbox":0,"processed":70,"applied":1200,"rejected":3,"keys":0,
   "bytes":100,"busy_ns":0}]})";

std::vector<std::string> first_column(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in{text};
  std::string line;
  std::getline(in, line);  // header
  while (std::getline(in, line)) {
    std::istringstream words{line};
    std::string w;
    words >> w;
    out.push_back(w);
  }
  return out;
}

} // namespace

TEST_SUITE("ctl_render") {

TEST_CASE("the actors table is sorted by id with human units") {
  auto text = render_actors(obj(actors_doc), "", "id");
  CHECK(first_column(text) == std::vector<std::string>{"3", "5", "11", "12"});
  CHECK(text.find("ID  NAME      KIND    SHARD  MAILBOX") == 0);
  CHECK(text.find("8.9 KiB") != std::string::npos);
  CHECK(text.find("1.20 s") != std::string::npos);
  CHECK(text.find("5.3 ms") != std::string::npos);
}

TEST_CASE("the actors table filters by kind and sorts counters largest "
          "first") {
  auto shards = render_actors(obj(actors_doc), "shard", "id");
  CHECK(first_column(shards) == std::vector<std::string>{"11", "12"});
  CHECK(first_column(render_actors(obj(actors_doc), "", "busy"))
        == std::vector<std::string>{"11", "12", "3", "5"});
  CHECK(first_column(render_actors(obj(actors_doc), "", "shard"))
        == std::vector<std::string>{"11", "12", "3", "5"});
  CHECK(first_column(render_actors(obj(actors_doc), "", "name"))
        == std::vector<std::string>{"5", "3", "11", "12"});
  CHECK(render_actors(obj(actors_doc), "session", "id")
        == "no actors of kind 'session'\n");
}

TEST_CASE("one actor shows its members, hot keys and rejects by code") {
  auto a = obj(R"({"id":12,"name":"shard-3","kind":"shard","node":"a",
    "shard":3,"mailbox":0,"processed":1234,"applied":1000,"rejected":3,
    "keys":88,"bytes":9120,"busy_ns":5300000,"uptime_ms":60000,
    "last_error":{"code":"overflow","detail":"clicks","age_ms":1500},
    "detail":{"hot_keys":[{"key":"user:1","events":123},
                          {"key":"user:22","events":7}],
              "rejected_by_code":{"overflow":2,"bad_op":0,"wrong_type":1},
              "duplicates":5,
              "dedup_window":{"ids":1000,"capacity":1000000}}})");
  auto text = render_actor(a);
  CHECK(text.find("name        shard-3\n") != std::string::npos);
  CHECK(text.find("bytes       8.9 KiB (9120)\n") != std::string::npos);
  CHECK(text.find("last error  overflow: clicks (1s ago)\n")
        != std::string::npos);
  CHECK(text.find("uptime      1m 00s\n") != std::string::npos);
  CHECK(text.find("hot keys:\nKEY      EVENTS\nuser:1      123\n"
                  "user:22       7\n")
        != std::string::npos);
  CHECK(text.find("rejects by code:\nCODE        COUNT\noverflow        2\n"
                  "wrong_type      1\n")
        != std::string::npos);
  CHECK(text.find("bad_op") == std::string::npos);
  CHECK(text.find("dedup_window  ids 1000, capacity 1000000")
        != std::string::npos);
}

TEST_CASE("a record lists its fields in order, doubles as the server "
          "writes them") {
  auto text = render_record(obj(R"({"key":"user:42",
    "fields":{"clicks":3,"spent":19.0,"ratio":0.1,"country":"DE",
              "tags":[1.5,{"a":null}]},
    "events":5,"first_ts":1764000000123,"last_ts":1764000009000,
    "version":5})"));
  CHECK(text == "key      user:42\n"
                "version  5\n"
                "events   5\n"
                "first    2025-11-24 16:00:00.123 UTC  (1764000000123)\n"
                "last     2025-11-24 16:00:09.000 UTC  (1764000009000)\n"
                "fields\n"
                "  clicks   3\n"
                "  spent    19.0\n"
                "  ratio    0.1\n"
                "  country  \"DE\"\n"
                "  tags     [1.5,{\"a\":null}]\n");
}

TEST_CASE("stats show totals, rates since start and latency quantiles") {
  auto text = render_stats(obj(R"({"accepted":1000,"duplicates":2,
    "rejected":10,"rejected_by_code":{"invalid_json":10,"overflow":0},
    "keys":5,"bytes":4096,"shards":64,"parsers":2,"uptime_seconds":100,
    "node":"a","ingest":{"connections":1,"connections_total":4,
    "http_requests_total":9,"bytes_total":2048,"inflight_events":0},
    "ack_latency":{"le_us":[50,100,250],"counts":[1,8,1,0],"count":10,
                   "sum_us":900}})"));
  CHECK(text.find("accepted     1000 (10/s since start)\n")
        != std::string::npos);
  CHECK(text.find("  by code    invalid_json 10\n") != std::string::npos);
  CHECK(text.find("keys         5 (4.0 KiB)\n") != std::string::npos);
  CHECK(text.find("1 TCP connections open (4 total)") != std::string::npos);
  CHECK(text.find("10 acks, mean 90 us, p50 <= 100 us, p99 <= 250 us")
        != std::string::npos);
}

TEST_CASE("latency quantiles come from the bucket bounds") {
  std::vector<uint64_t> le{50, 100, 250};
  CHECK(histogram_quantile(le, {0, 0, 0, 0}, 0.5) == std::nullopt);
  CHECK(histogram_quantile(le, {5, 5, 0, 0}, 0.5) == 50u);
  CHECK(histogram_quantile(le, {5, 4, 0, 1}, 0.99) == std::nullopt);
  CHECK(histogram_quantile(le, {0, 0, 10, 0}, 0.01) == 250u);
}

TEST_CASE("the cluster view summarises placement per node as ranges") {
  auto text = render_cluster(obj(R"({"self":"a","epoch":7,
    "members":[{"node":"a","address":"","state":"up","shards":3,"held":3},
               {"node":"b","address":"10.0.0.2:4000","state":"joining",
                "shards":2,"held":0}],
    "placement":{"0":"a","1":"a","2":"b","3":"b","4":"a"}})"));
  CHECK(text.find("self a, epoch 7\n") == 0);
  CHECK(text.find("a     -              up            3     3\n")
        != std::string::npos);
  CHECK(text.find("joining       2     0\n") != std::string::npos);
  CHECK(text.find("placement: 5 shards\n") != std::string::npos);
  CHECK(text.find("a          3  0-1,4\n") != std::string::npos);
  CHECK(text.find("b          2  2-3\n") != std::string::npos);
  CHECK(compress_ranges({}) == "");
  CHECK(compress_ranges({0, 1, 2, 5, 7, 8}) == "0-2,5,7-8");
}

TEST_CASE("tap lines are one readable line each; heartbeats are hidden") {
  CHECK(render_tap_line(obj(R"({"t_ms":1764000000123,"shard":3,"seq":17,
    "id":"e1","key":"user:1","op":"incr","outcome":"applied"})"))
        == "16:00:00.123  shard 3  seq 17  applied  incr  user:1  id e1");
  CHECK(render_tap_line(obj(R"({"t_ms":0,"shard":3,"seq":1,"id":"e2",
    "key":"k","op":"incr","outcome":"rejected","error":"overflow"})"))
          .find("rejected (overflow)")
        != std::string::npos);
  CHECK(render_tap_line(obj(R"({"heartbeat":1})")).empty());
  CHECK(render_tap_line(obj(R"({"dropped":4})"))
        == "... 4 events sampled away");
  CHECK(render_tap_line(obj(R"({"tap":"key","key":"K","shard":3})"))
        == "tapping key K (shard 3); Ctrl-C stops");
}

TEST_CASE("server errors read as error: code: detail") {
  CHECK(render_server_error(400, R"({"error":"bad_request","detail":"x"})")
        == "error: bad_request: x");
  CHECK(render_server_error(404, R"({"error":"not_found"})")
        == "error: not_found: HTTP 404");
  CHECK(render_server_error(502, "Bad Gateway\r\n")
        == "error: HTTP 502: Bad Gateway");
  CHECK(render_server_error(500, "") == "error: HTTP 500");
}

TEST_CASE("send cuts input into batches that keep line numbers") {
  std::istringstream in{"a\n\nb\nc\nd"};
  ndjson_batcher batcher{in, 2};
  ndjson_batcher::batch b;
  REQUIRE(batcher.next(b));
  CHECK(b.first_line == 1);
  CHECK(b.lines == 2);
  CHECK(b.body == "a\n\n");
  REQUIRE(batcher.next(b));
  CHECK(b.first_line == 3);
  CHECK(b.body == "b\nc\n");
  REQUIRE(batcher.next(b));
  CHECK(b.first_line == 5);
  CHECK(b.body == "d\n");  // the last line gets its newline
  CHECK_FALSE(batcher.next(b));
}

TEST_CASE("send starts a new batch before the byte limit") {
  std::istringstream in{"aaaa\nbbbb\ncccccccccccc\nd\n"};
  ndjson_batcher batcher{in, 100, 10};
  ndjson_batcher::batch b;
  std::vector<std::pair<uint64_t, std::string>> got;
  while (batcher.next(b))
    got.emplace_back(b.first_line, b.body);
  CHECK(got == std::vector<std::pair<uint64_t, std::string>>{
                 {1, "aaaa\nbbbb\n"}, {3, "cccccccccccc\n"}, {4, "d\n"}});
}

TEST_CASE("send reports an error with its input line and id") {
  CHECK(render_send_error(7, obj(R"({"index":2,"id":"e-3",
    "error":"missing_field","detail":"key is required"})"))
        == "line 7: missing_field: key is required (id e-3)");
  CHECK(render_send_error(1, obj(R"({"index":0,"error":"invalid_json"})"))
        == "line 1: invalid_json");
}

TEST_CASE("top ranks actors by busy share over the interval") {
  auto before = to_sample(obj(R"({"actors":[
    {"id":1,"name":"p","kind":"parser","processed":100,"busy_ns":0,
     "uptime_ms":1000},
    {"id":2,"name":"s","kind":"shard","processed":100,"busy_ns":100,
     "uptime_ms":1000}]})"));
  auto now = to_sample(obj(R"({"actors":[
    {"id":1,"name":"p","kind":"parser","processed":300,"applied":50,
     "busy_ns":500000000,"uptime_ms":3000},
    {"id":2,"name":"s","kind":"shard","processed":110,"busy_ns":200000100,
     "uptime_ms":3000},
    {"id":3,"name":"new","kind":"session","processed":4,"busy_ns":0,
     "uptime_ms":100}]})"));
  auto rows = compute_top(&before, now, 2.0);
  REQUIRE(rows.size() == 3);
  CHECK(rows[0].id == 1);
  CHECK(rows[0].busy_share == doctest::Approx(0.25));
  CHECK(rows[0].processed_rate == doctest::Approx(100));
  CHECK(rows[0].applied_rate == doctest::Approx(25));
  CHECK(rows[1].id == 2);
  CHECK(rows[1].busy_share == doctest::Approx(0.1));
  CHECK(rows[2].id == 3);
  CHECK(rows[2].processed_rate == doctest::Approx(2));
  // The first view has no previous poll: rates since each actor started.
  auto first = compute_top(nullptr, now, 0);
  CHECK(first[0].busy_share == doctest::Approx(0.5 / 3));
  auto text = render_top(rows, "header", 2);
  CHECK(text.find("header\n\n") == 0);
  CHECK(text.find("25.0") != std::string::npos);
  CHECK(text.find("new") == std::string::npos);  // only two rows fit
}

TEST_CASE("JSON values print like the server writes them") {
  CHECK(json_text(json::value(9.5)) == "9.5");
  CHECK(json_text(json::value(19.0)) == "19.0");
  CHECK(json_text(json::value(1e300)) == "1e+300");
  CHECK(json_text(json::parse(R"({"a":[1,"x\"y",true]})"))
        == R"({"a":[1,"x\"y",true]})");
}

}

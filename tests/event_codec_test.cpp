#include "actors/event_codec.hpp"

#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <variant>
#include <vector>

#include <boost/json.hpp>
#include <doctest/doctest.h>

#include "tests/test_events.hpp"
#include "tests/test_paths.hpp"

using namespace eventide;

namespace {

constexpr uint64_t test_seq = 42;

using decode_result = std::variant<test::event, rejection>;

decode_result decode(std::string_view line, input_limits limits = {}) {
  event_batch batch;
  if (auto rej = decode_event(line, test_seq, limits, batch)) {
    CHECK(batch.empty());
    CHECK(batch.text.empty());
    CHECK(batch.fields.empty());
    return *rej;
  }
  REQUIRE(batch.size() == 1);
  REQUIRE(batch.well_formed());
  return test::to_event(batch[0]);
}

/// The event of a result that must be valid; fails the test otherwise.
test::event valid(std::string_view line, input_limits limits = {}) {
  auto result = decode(line, limits);
  if (auto* r = std::get_if<rejection>(&result)) {
    INFO("line: ", std::string{line});
    INFO("rejected: ", std::string{to_string(r->code)}, " ", r->detail);
    FAIL("expected a valid event");
  }
  return std::get<test::event>(result);
}

/// The rejection of a result that must be rejected.
rejection rejected(std::string_view line, input_limits limits = {}) {
  auto result = decode(line, limits);
  if (std::holds_alternative<test::event>(result)) {
    INFO("line: ", std::string{line});
    FAIL("expected a rejection");
  }
  return std::get<rejection>(result);
}

/// `{"id":"a","key":"k","data":{"x":[[...]]}}`: nesting depth 2 + arrays.
std::string nested_event(std::size_t arrays) {
  return R"({"id":"a","key":"k","data":{"x":)" + std::string(arrays, '[')
         + std::string(arrays, ']') + "}}";
}

const test::field& field_named(const test::event& ev, std::string_view name) {
  for (auto& f : ev.data)
    if (f.name == name)
      return f;
  FAIL("no field ", std::string{name});
  return ev.data.front();
}

std::string read_file(const std::filesystem::path& path) {
  std::ifstream in{path, std::ios::binary};
  return {std::istreambuf_iterator<char>{in}, {}};
}

struct bad_case {
  std::string line;
  error_code code;
  std::string id; // expected rejection id
};

std::vector<bad_case> hostile_lines() {
  using ec = error_code;
  return {
    // invalid_json, including errors found after a semantic error
    {R"({"id":"a","key":"k","data":{})", ec::invalid_json, "a"},
    {R"({"x":1,)", ec::invalid_json, ""},
    {R"({"id":"a","key":"k","data":{},})", ec::invalid_json, "a"},
    {R"({"id":"a","key":"k","data":{"x":[1,]}})", ec::invalid_json, "a"},
    {R"({"id":"a","key":"k","data":{}} x)", ec::invalid_json, "a"},
    {R"({"id":"a","key":"k","data":{}}{})", ec::invalid_json, "a"},
    {R"({"id":"a",/*c*/"key":"k","data":{}})", ec::invalid_json, "a"},
    {"{\"id\":\"a\",\"key\":\"k\xff\",\"data\":{}}", ec::invalid_json, "a"},
    {"{\"id\":\"a\",\"key\":\"k\xc3\",\"data\":{}}", ec::invalid_json, "a"},
    {"{\"id\":\"a\",\"key\":\"k\tk\",\"data\":{}}", ec::invalid_json, "a"},
    {R"({'id':'a'})", ec::invalid_json, ""},
    {R"({"id":"a","key":"k","data":{"x":NaN}})", ec::invalid_json, "a"},
    {R"({"id":"a","key":"k","data":{"x":01}})", ec::invalid_json, "a"},
    {R"({"id":"a","bogus":1,"key":)", ec::invalid_json, "a"},
    {R"({"a":1,"a":2,)", ec::invalid_json, ""},
    {"", ec::invalid_json, ""},
    {"   ", ec::invalid_json, ""},
    // not_an_object
    {"[1,2]", ec::not_an_object, ""},
    {R"("text")", ec::not_an_object, ""},
    {"42", ec::not_an_object, ""},
    {"-1.5", ec::not_an_object, ""},
    {"null", ec::not_an_object, ""},
    {"true", ec::not_an_object, ""},
    {R"([{"id":"a","a":1,"a":2}])", ec::not_an_object, ""},
    // missing_field
    {R"({"key":"k","data":{}})", ec::missing_field, ""},
    {R"({"id":"a","data":{}})", ec::missing_field, "a"},
    {R"({"id":"","key":"k","data":{}})", ec::missing_field, ""},
    {R"({"id":"a","key":"","data":{}})", ec::missing_field, "a"},
    {R"({"id":"a","key":"k"})", ec::missing_field, "a"},
    {R"({"id":"a","key":"k","op":"set"})", ec::missing_field, "a"},
    {R"({"id":"a","key":"k","op":"incr"})", ec::missing_field, "a"},
    {R"({})", ec::missing_field, ""},
    // wrong_type
    {R"({"id":5,"key":"k","data":{}})", ec::wrong_type, ""},
    {R"({"id":null,"key":"k","data":{}})", ec::wrong_type, ""},
    {R"({"id":"a","key":["k"],"data":{}})", ec::wrong_type, "a"},
    {R"({"id":"a","key":{"k":1},"data":{}})", ec::wrong_type, "a"},
    {R"({"id":"a","key":"k","op":1,"data":{}})", ec::wrong_type, "a"},
    {R"({"id":"a","key":"k","op":["set"],"data":{}})", ec::wrong_type, "a"},
    {R"({"id":"a","key":"k","data":[1]})", ec::wrong_type, "a"},
    {R"({"id":"a","key":"k","data":"x"})", ec::wrong_type, "a"},
    {R"({"id":"a","key":"k","data":null})", ec::wrong_type, "a"},
    {R"({"id":"a","key":"k","op":"del","data":7})", ec::wrong_type, "a"},
    {R"({"id":"a","key":"k","data":{},"ts":1.5})", ec::wrong_type, "a"},
    {R"({"id":"a","key":"k","data":{},"ts":1e3})", ec::wrong_type, "a"},
    {R"({"id":"a","key":"k","data":{},"ts":1.0})", ec::wrong_type, "a"},
    {R"({"id":"a","key":"k","data":{},"ts":-1})", ec::wrong_type, "a"},
    {R"({"id":"a","key":"k","data":{},"ts":"1"})", ec::wrong_type, "a"},
    {R"({"id":"a","key":"k","data":{},"ts":null})", ec::wrong_type, "a"},
    {R"({"id":"a","key":"k","data":{},"ts":9223372036854775808})",
     ec::wrong_type, "a"},
    {R"({"id":"a","key":"k","data":{},"ts":[1]})", ec::wrong_type, "a"},
    // unknown_field
    {R"({"id":"a","key":"k","data":{},"extra":1})", ec::unknown_field, "a"},
    {R"({"foo":1})", ec::unknown_field, ""},
    {R"({"ID":"a","key":"k","data":{}})", ec::unknown_field, ""},
    {R"({"id":"a","key":5,"x":{"y":[1]}})", ec::unknown_field, "a"},
    // duplicate_field, at any depth
    {R"({"id":"a","id":"b","key":"k","data":{}})", ec::duplicate_field, "a"},
    {R"({"id":"a","key":"k","key":"k","data":{}})", ec::duplicate_field,
     "a"},
    {R"({"id":"a","key":"k","data":{"x":1,"x":2}})", ec::duplicate_field,
     "a"},
    {R"({"id":"a","key":"k","data":{"x":{"y":{"z":1,"z":2}}}})",
     ec::duplicate_field, "a"},
    {R"({"id":"a","key":"k","data":{"x":[{"q":1},{"q":1,"q":2}]}})",
     ec::duplicate_field, "a"},
    {R"({"id":"a","key":"k","foo":{"a":1,"a":2},"data":{}})",
     ec::duplicate_field, "a"},
    {R"({"id":"a","key":"k","data":{"a\u0062":1,"ab":2}})",
     ec::duplicate_field, "a"},
    {R"({"id":"a","key":"k","op":"del","data":{"x":null,"x":null}})",
     ec::duplicate_field, "a"},
    // too_large: the line, and the id and key sizes
    {std::string(65537, ' '), ec::too_large, ""},
    {R"({"id":")" + std::string(129, 'i') + R"(","key":"k","data":{}})",
     ec::too_large, ""},
    {R"({"id":"a","key":")" + std::string(513, 'k') + R"(","data":{}})",
     ec::too_large, "a"},
    // too_deep
    {nested_event(31), ec::too_deep, "a"},
    {std::string(40, '[') + std::string(40, ']'), ec::too_deep, ""},
    // bad_op
    {R"({"id":"a","key":"k","op":"mul","data":{}})", ec::bad_op, "a"},
    {R"({"id":"a","key":"k","op":"SET","data":{}})", ec::bad_op, "a"},
    {R"({"id":"a","key":"k","op":"","data":{}})", ec::bad_op, "a"},
    // not_a_number
    {R"({"id":"a","key":"k","op":"incr","data":{"n":"1"}})",
     ec::not_a_number, "a"},
    {R"({"id":"a","key":"k","op":"incr","data":{"n":true}})",
     ec::not_a_number, "a"},
    {R"({"id":"a","key":"k","op":"incr","data":{"n":null}})",
     ec::not_a_number, "a"},
    {R"({"id":"a","key":"k","op":"incr","data":{"n":[1]}})",
     ec::not_a_number, "a"},
    {R"({"id":"a","key":"k","op":"incr","data":{"n":{}}})",
     ec::not_a_number, "a"},
    {R"({"data":{"n":1,"m":"x"},"op":"incr","id":"a","key":"k"})",
     ec::not_a_number, "a"},
    // overflow
    {R"({"id":"a","key":"k","op":"incr","data":{"n":9223372036854775808}})",
     ec::overflow, "a"},
    {R"({"id":"a","key":"k","op":"incr","data":{"n":-9223372036854775809}})",
     ec::overflow, "a"},
    {R"({"id":"a","key":"k","op":"incr","data":{"n":123456789012345678901}})",
     ec::overflow, "a"},
  };
}

} // namespace

TEST_SUITE("event_codec") {

TEST_CASE("every hostile line is rejected with its error code, seq and id") {
  for (auto& c : hostile_lines()) {
    CAPTURE(c.line.substr(0, 80));
    auto r = rejected(c.line);
    CHECK(to_string(r.code) == to_string(c.code));
    CHECK(r.seq == test_seq);
    CHECK(r.id == c.id);
    CHECK_FALSE(r.detail.empty());
  }
}

TEST_CASE("the rejection table covers every code the codec produces") {
  std::vector<bool> seen(error_code_count, false);
  for (auto& c : hostile_lines())
    seen[static_cast<std::size_t>(c.code)] = true;
  for (auto code : {error_code::invalid_json, error_code::not_an_object,
                    error_code::missing_field, error_code::wrong_type,
                    error_code::unknown_field, error_code::duplicate_field,
                    error_code::too_large, error_code::too_deep,
                    error_code::bad_op, error_code::not_a_number,
                    error_code::overflow}) {
    CAPTURE(to_string(code));
    CHECK(seen[static_cast<std::size_t>(code)]);
  }
}

TEST_CASE("details are short sentences naming the member") {
  CHECK(rejected(R"({"id":"a","data":{}})").detail == "key is required");
  CHECK(rejected(R"({"key":"k","data":{}})").detail == "id is required");
  CHECK(rejected(R"({"id":"","key":"k","data":{}})").detail == "id is empty");
  CHECK(rejected(R"({"id":"a","key":"k"})").detail
        == "data is required for set");
  CHECK(rejected(R"({"id":"a","key":"k","op":"incr"})").detail
        == "data is required for incr");
  CHECK(rejected(R"({"id":"a","key":"k","data":{},"foo":1})").detail
        == "member 'foo' is not allowed");
  CHECK(rejected(R"({"id":"a","key":"k","data":{"c":1,"c":2}})").detail
        == "member 'c' appears more than once");
  CHECK(rejected(R"({"id":"a","key":"k","op":"incr","data":{"clicks":"x"}})")
          .detail
        == "data.clicks must be a number");
  auto long_name = std::string(300, 'n');
  auto r = rejected(R"({"id":"a","key":"k","data":{},")" + long_name
                    + R"(":1})");
  CHECK(r.code == error_code::unknown_field);
  CHECK(r.detail.size() < 100);
}

TEST_CASE("when several rules fail the higher precedence code wins") {
  input_limits tiny;
  tiny.max_event_bytes = 8;
  CHECK(rejected(R"({"x":1,"y":)", tiny).code == error_code::too_large);
  CHECK(rejected(R"({"a":1,"a":2,)").code == error_code::invalid_json);
  CHECK(rejected(R"([{"a":1,"a":2}])").code == error_code::not_an_object);
  CHECK(rejected(R"({"foo":1,"foo":2})").code == error_code::duplicate_field);
  CHECK(rejected(R"({"id":"a","key":5,"foo":1})").code
        == error_code::unknown_field);
  CHECK(rejected(R"({"id":"a","key":5})").code == error_code::wrong_type);
  CHECK(rejected(R"({"id":"a","op":"bad","data":{}})").code
        == error_code::missing_field);
  CHECK(rejected(R"({"id":"a","key":"k","op":"bad"})").code
        == error_code::bad_op);
  CHECK(rejected(R"({"id":"a","key":"k","op":"incr","data":{"x":"s"},)"
                 R"("ts":-1})")
          .code
        == error_code::wrong_type);
  CHECK(rejected(R"({"id":"a","key":"k","op":"bad","data":{"x":"s"}})").code
        == error_code::bad_op);
}

TEST_CASE("the id is reported whenever it was a valid string") {
  auto r = rejected(R"({"key":"k","id":"e-7","foo":1})");
  CHECK(r.id == "e-7");
  CHECK(rejected(R"({"id":"e-7","key":)").id == "e-7");
  CHECK(rejected(R"({"id":"e-7","id":"e-8","key":"k","data":{}})").id
        == "e-7");
  input_limits tiny;
  tiny.max_event_bytes = 4;
  CHECK(rejected(R"({"id":"e-7"})", tiny).id.empty());
}

TEST_CASE("an incr event keeps integers and doubles typed") {
  auto ev = valid(R"({"id":"e-1001","key":"user:42","op":"incr",)"
                  R"("data":{"clicks":1,"spent":9.5,"neg":-3,"big":1e2},)"
                  R"("ts":1764000000123})");
  CHECK(ev.seq == test_seq);
  CHECK(ev.id == "e-1001");
  CHECK(ev.key == "user:42");
  CHECK(ev.op == op_code::incr);
  CHECK(ev.has_data);
  REQUIRE(ev.data.size() == 4);
  CHECK(ev.data[0].name == "clicks");
  CHECK(ev.data[0].value.type == value_kind::integer);
  CHECK(ev.data[0].value.integer == 1);
  CHECK(ev.data[1].name == "spent");
  CHECK(ev.data[1].value.type == value_kind::real);
  CHECK(ev.data[1].value.real == 9.5);
  CHECK(ev.data[2].value.integer == -3);
  CHECK(ev.data[3].value.type == value_kind::real);
  CHECK(ev.data[3].value.real == 100.0);
  CHECK(ev.has_ts);
  CHECK(ev.ts == 1764000000123);
}

TEST_CASE("incr accepts the int64 extremes") {
  auto ev = valid(R"({"id":"a","key":"k","op":"incr","data":)"
                  R"({"max":9223372036854775807,"min":-9223372036854775808}})");
  CHECK(ev.data[0].value.type == value_kind::integer);
  CHECK(ev.data[0].value.integer == INT64_MAX);
  CHECK(ev.data[1].value.integer == INT64_MIN);
}

TEST_CASE("set keeps every other JSON value as compact valid JSON text") {
  auto ev = valid(
    R"({"id":"a","key":"k","data":{)"
    R"("s":"he said \"hi\"\n\t\u0001\u001f \\ \/ caf\u00e9 é \ud83d\ude00 😀",)"
    R"("t":true,"f":false,"n":null,)"
    R"("arr":[ 1 , "a]" , {"b" : [true, null, -2.5e-3]} , [] ],)"
    R"("obj":{ "x\"y" : { "z" : "}" } , "e" : {} },)"
    R"("huge":18446744073709551615,"huger":-123456789012345678901234})"
    R"(})");
  CHECK(ev.op == op_code::set);
  CHECK_FALSE(ev.has_ts);
  REQUIRE(ev.data.size() == 8);
  for (auto& f : ev.data) {
    CAPTURE(f.name);
    REQUIRE(f.value.type == value_kind::raw);
    boost::json::error_code ec;
    boost::json::parse(f.value.raw, ec);
    CHECK_FALSE(ec);
  }
  auto& s = field_named(ev, "s").value.raw;
  CHECK(s
        == "\"he said \\\"hi\\\"\\n\\t\\u0001\\u001f \\\\ / caf\xc3\xa9 "
           "\xc3\xa9 \xf0\x9f\x98\x80 \xf0\x9f\x98\x80\"");
  CHECK(boost::json::parse(s).as_string()
        == "he said \"hi\"\n\t\x01\x1f \\ / caf\xc3\xa9 \xc3\xa9 "
           "\xf0\x9f\x98\x80 \xf0\x9f\x98\x80");
  CHECK(field_named(ev, "t").value.raw == "true");
  CHECK(field_named(ev, "f").value.raw == "false");
  CHECK(field_named(ev, "n").value.raw == "null");
  CHECK(field_named(ev, "arr").value.raw
        == R"([1,"a]",{"b":[true,null,-2.5e-3]},[]])");
  CHECK(field_named(ev, "obj").value.raw == R"({"x\"y":{"z":"}"},"e":{}})");
  CHECK(field_named(ev, "huge").value.raw == "18446744073709551615");
  CHECK(field_named(ev, "huger").value.raw == "-123456789012345678901234");
}

TEST_CASE("raw values round-trip to the same JSON value") {
  auto text = std::string{
    R"({"a":[{"k":"v\u2028\u0000"},1.25,-0,1E+2,"\b\f\r"],"b":{"c":[[[]]]}})"};
  auto ev = valid(R"({"id":"a","key":"k","data":)" + text + "}");
  auto original = boost::json::parse(text).as_object();
  for (auto& f : ev.data) {
    CAPTURE(f.name);
    CHECK(boost::json::parse(f.value.raw) == original.at(f.name));
  }
}

TEST_CASE("data member names keep their unescaped text and input order") {
  auto ev = valid(
    R"({"id":"a","key":"k","data":{"z":1,"a\"b":2,"caf\u00e9":3,"m":4}})");
  REQUIRE(ev.data.size() == 4);
  CHECK(ev.data[0].name == "z");
  CHECK(ev.data[1].name == "a\"b");
  CHECK(ev.data[2].name == "caf\xc3\xa9");
  CHECK(ev.data[3].name == "m");
}

TEST_CASE("a del event may omit data or name members of any type") {
  auto whole = valid(R"({"id":"a","key":"k","op":"del"})");
  CHECK(whole.op == op_code::del);
  CHECK_FALSE(whole.has_data);
  CHECK(whole.data.empty());
  auto some = valid(
    R"({"id":"a","key":"k","op":"del","data":{"x":null,"y":[1],"z":"s"}})");
  CHECK(some.has_data);
  REQUIRE(some.data.size() == 3);
  CHECK(some.data[1].name == "y");
  auto empty = valid(R"({"id":"a","key":"k","op":"del","data":{}})");
  CHECK(empty.has_data);
  CHECK(empty.data.empty());
}

TEST_CASE("op defaults to set and members may come in any order") {
  auto ev = valid(R"({"data":{"x":"y"},"ts":0,"key":"k","id":"a"})");
  CHECK(ev.op == op_code::set);
  CHECK(ev.has_ts);
  CHECK(ev.ts == 0);
  CHECK(valid(R"({"id":"a","key":"k","op":"set","data":{}})").op
        == op_code::set);
}

TEST_CASE("ts is optional and accepts the whole non-negative int64 range") {
  auto absent = valid(R"({"id":"a","key":"k","data":{}})");
  CHECK_FALSE(absent.has_ts);
  auto max = valid(R"({"id":"a","key":"k","data":{},"ts":9223372036854775807})");
  CHECK(max.has_ts);
  CHECK(max.ts == INT64_MAX);
}

TEST_CASE("id and key sizes are checked at their exact boundaries") {
  auto line = [](std::size_t id, std::size_t key) {
    return R"({"id":")" + std::string(id, 'i') + R"(","key":")"
           + std::string(key, 'k') + R"(","data":{}})";
  };
  CHECK(valid(line(128, 512)).id.size() == 128);
  CHECK(valid(line(1, 1)).key.size() == 1);
  CHECK(rejected(line(129, 1)).code == error_code::too_large);
  CHECK(rejected(line(1, 513)).code == error_code::too_large);
  // Sizes are bytes of the unescaped UTF-8: 64 two-byte characters fit.
  std::string wide;
  for (int i = 0; i < 64; ++i)
    wide += "\\u00e9";
  CHECK(valid(R"({"id":")" + wide + R"(","key":"k","data":{}})").id.size()
        == 128);
  CHECK(rejected(R"({"id":")" + wide + R"(e","key":"k","data":{}})").code
        == error_code::too_large);
}

TEST_CASE("the line limit is inclusive") {
  std::string line = R"({"id":"a","key":"k","data":{}})";
  input_limits limits;
  limits.max_event_bytes = line.size();
  valid(line, limits);
  limits.max_event_bytes = line.size() - 1;
  CHECK(rejected(line, limits).code == error_code::too_large);
}

TEST_CASE("depth counts the top-level object as 1 and the limit is inclusive") {
  input_limits limits;
  limits.max_depth = 32;
  CHECK(nested_event(30).size() > 0);
  valid(nested_event(30), limits); // depth 32
  CHECK(rejected(nested_event(31), limits).code == error_code::too_deep);
  limits.max_depth = 2;
  valid(R"({"id":"a","key":"k","data":{}})", limits);
  CHECK(rejected(R"({"id":"a","key":"k","data":{"x":[]}})", limits).code
        == error_code::too_deep);
  limits.max_depth = 1;
  valid(R"({"id":"a","key":"k","op":"del"})", limits);
  CHECK(rejected(R"({"id":"a","key":"k","data":{}})", limits).code
        == error_code::too_deep);
}

TEST_CASE("duplicate names are found in large objects too") {
  std::string members;
  for (int i = 0; i < 200; ++i)
    members += "\"m" + std::to_string(i) + "\":" + std::to_string(i) + ",";
  auto ok = valid(R"({"id":"a","key":"k","data":{)" + members
                  + R"("last":{"m1":1}}})");
  REQUIRE(ok.data.size() == 201);
  CHECK(ok.data[150].name == "m150");
  CHECK(ok.data[150].value.integer == 150);
  auto dup = R"({"id":"a","key":"k","data":{)" + members + R"("m7":1}})";
  CHECK(rejected(dup).code == error_code::duplicate_field);
  CHECK(rejected(dup).detail == "member 'm7' appears more than once");
}

TEST_CASE("the same name in sibling or nested objects is not a duplicate") {
  valid(R"({"id":"a","key":"k","data":{"x":{"id":1},"y":{"id":1,"x":{"x":1}}}})");
  valid(R"({"id":"a","key":"k","data":{"l":[{"a":1},{"a":2}]}})");
}

TEST_CASE("a carriage return before the end of line is accepted") {
  auto ev = valid("{\"id\":\"a\",\"key\":\"k\",\"data\":{}}\r");
  CHECK(ev.id == "a");
  valid(" \t{ \"id\" : \"a\" , \"key\" : \"k\" , \"data\" : { } } \r");
}

TEST_CASE("the decoder state does not leak from one line to the next") {
  CHECK(rejected(R"({"id":"a","key":"k","data":{"x":[{"y":)").code
        == error_code::invalid_json);
  auto ev = valid(R"({"id":"b","key":"k2","data":{"x":1}})");
  CHECK(ev.id == "b");
  REQUIRE(ev.data.size() == 1);
  CHECK(ev.data[0].value.integer == 1);
  input_limits shallow;
  shallow.max_depth = 3;
  CHECK(rejected(nested_event(2), shallow).code == error_code::too_deep);
  valid(nested_event(2));
}

TEST_CASE("is_blank accepts only JSON whitespace") {
  CHECK(is_blank(""));
  CHECK(is_blank(" "));
  CHECK(is_blank(" \t\r\n"));
  CHECK_FALSE(is_blank(" x "));
  CHECK_FALSE(is_blank("\f"));
  CHECK_FALSE(is_blank("\v"));
  CHECK_FALSE(is_blank("{}"));
}

TEST_CASE("split_json_body cuts a top-level array into exact element texts") {
  std::string body = " \n[ {\"id\":\"a\",\"s\":\"x]}[\\\"y,\"} ,\n"
                     "{\"id\":\"b\",\"arr\":[[1,2],[3,{\"q\":\"\\\\\"}]]} ,"
                     "7,\"a,b\",null,[]\t] \r\n";
  std::string detail;
  auto parts = split_json_body(body, 32, &detail);
  REQUIRE(parts);
  REQUIRE(parts->size() == 6);
  CHECK((*parts)[0] == "{\"id\":\"a\",\"s\":\"x]}[\\\"y,\"}");
  CHECK((*parts)[1] == "{\"id\":\"b\",\"arr\":[[1,2],[3,{\"q\":\"\\\\\"}]]}");
  CHECK((*parts)[2] == "7");
  CHECK((*parts)[3] == "\"a,b\"");
  CHECK((*parts)[4] == "null");
  CHECK((*parts)[5] == "[]");
  for (auto part : *parts)
    CHECK(part.data() >= body.data());
  auto first = std::get<rejection>(decode((*parts)[0]));
  CHECK(first.id == "a");
  CHECK(first.code == error_code::unknown_field);
}

TEST_CASE("split_json_body returns a single object as one element") {
  std::string body = "\r\n {\"id\":\"a\",\"key\":\"k\",\"data\":{}}  \n";
  auto parts = split_json_body(body, 32, nullptr);
  REQUIRE(parts);
  REQUIRE(parts->size() == 1);
  CHECK((*parts)[0] == "{\"id\":\"a\",\"key\":\"k\",\"data\":{}}");
  auto scalar = split_json_body("5", 32, nullptr);
  REQUIRE(scalar);
  CHECK(scalar->size() == 1);
}

TEST_CASE("split_json_body returns no elements for an empty array") {
  auto empty = split_json_body("[]", 32, nullptr);
  REQUIRE(empty);
  CHECK(empty->empty());
  auto spaced = split_json_body(" [ \n ] ", 32, nullptr);
  REQUIRE(spaced);
  CHECK(spaced->empty());
}

TEST_CASE("split_json_body refuses a body that is not JSON") {
  for (std::string body :
       {"", "   ", "not json", "[1,2", "[1,]", "[1] [2]", "{\"a\":1}x",
        "{\"a\":\"\xff\"}", "[1]\n[2]"}) {
    CAPTURE(body);
    std::string detail;
    CHECK_FALSE(split_json_body(body, 32, &detail));
    CHECK_FALSE(detail.empty());
  }
  CHECK_FALSE(split_json_body("nope", 32, nullptr));
}

TEST_CASE("split_json_body allows deeper nesting but not without bound") {
  auto nest = [](std::size_t n) {
    return std::string(n, '[') + std::string(n, ']');
  };
  CHECK(split_json_body(nest(32 + 64), 32, nullptr));
  std::string detail;
  CHECK_FALSE(split_json_body(nest(32 + 65), 32, &detail));
  CHECK(detail == "nesting too deep");
  CHECK_FALSE(split_json_body(nest(100000), 32, &detail));
  CHECK(detail == "nesting too deep");
}

TEST_CASE("the JSONTestSuite parsing corpus is judged like the parser") {
  auto dir = std::filesystem::path{eventide::test::source_dir()} / ".."
             / "shared"
             / "testdata" / "JSONTestSuite" / "test_parsing";
  if (!std::filesystem::is_directory(dir)) {
    MESSAGE("skipped: no JSONTestSuite at ", dir.string());
    return;
  }
  input_limits limits;
  limits.max_event_bytes = 16 * 1024 * 1024; // some files are larger
  std::size_t files = 0;
  for (auto& entry : std::filesystem::directory_iterator{dir}) {
    auto name = entry.path().filename().string();
    auto text = read_file(entry.path());
    CAPTURE(name);
    ++files;
    auto result = decode(text, limits);
    auto* r = std::get_if<rejection>(&result);
    if (name.starts_with("n_")) {
      REQUIRE(r);
      CHECK((r->code == error_code::invalid_json
             || r->code == error_code::too_deep));
    } else if (name.starts_with("y_") && r) {
      CHECK(r->code != error_code::invalid_json);
      auto body = text.substr(text.find_first_not_of(" \t\r\n"));
      if (body.front() == '{')
        CHECK(r->code != error_code::not_an_object);
    }
    std::string detail;
    auto parts = split_json_body(text, 32, &detail);
    if (name.starts_with("n_"))
      CHECK_FALSE(parts);
    if (name.starts_with("y_"))
      CHECK(parts);
  }
  CHECK(files > 300);
}

} // TEST_SUITE

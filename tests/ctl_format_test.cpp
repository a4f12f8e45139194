#include "app/ctl/format.hpp"

#include <doctest/doctest.h>

using namespace eventide::ctl;

TEST_SUITE("ctl_format") {

TEST_CASE("bytes are shown in binary units with at most three digits") {
  CHECK(human_bytes(0) == "0 B");
  CHECK(human_bytes(1023) == "1023 B");
  CHECK(human_bytes(1024) == "1.0 KiB");
  CHECK(human_bytes(1536) == "1.5 KiB");
  CHECK(human_bytes(10 * 1024 - 1) == "9.9 KiB");
  CHECK(human_bytes(10 * 1024) == "10 KiB");
  CHECK(human_bytes(1024 * 1024 - 1) == "1023 KiB");
  CHECK(human_bytes(5ull << 30) == "5.0 GiB");
  CHECK(human_bytes(3ull << 60) == "3.0 EiB");
}

TEST_CASE("busy time is shown in ms below a second and in s above") {
  CHECK(human_duration_ns(0) == "0 ms");
  CHECK(human_duration_ns(40'000) == "0.04 ms");
  CHECK(human_duration_ns(5'300'000) == "5.3 ms");
  CHECK(human_duration_ns(999'900'000) == "999.9 ms");
  CHECK(human_duration_ns(1'250'000'000) == "1.25 s");
  CHECK(human_duration_ns(73'400'000'000) == "73.4 s");
  CHECK(human_duration_ns(7'380'000'000'000) == "2h 03m");
}

TEST_CASE("latencies are shown in us below a millisecond") {
  CHECK(human_micros(0) == "0 us");
  CHECK(human_micros(250) == "250 us");
  CHECK(human_micros(2500) == "2.5 ms");
  CHECK(human_micros(1'200'000) == "1.20 s");
}

TEST_CASE("rates use k and M suffixes") {
  CHECK(human_rate(0) == "0/s");
  CHECK(human_rate(-1) == "0/s");
  CHECK(human_rate(2.5) == "2.5/s");
  CHECK(human_rate(12) == "12/s");
  CHECK(human_rate(1234) == "1.23k/s");
  CHECK(human_rate(45678) == "45.7k/s");
  CHECK(human_rate(3'400'000) == "3.40M/s");
}

TEST_CASE("uptime picks the two largest units") {
  CHECK(human_uptime(42) == "42s");
  CHECK(human_uptime(187) == "3m 07s");
  CHECK(human_uptime(5 * 3600 + 120) == "5h 02m");
  CHECK(human_uptime(2 * 86400 + 4 * 3600) == "2d 04h");
}

TEST_CASE("timestamps are shown in UTC with milliseconds") {
  CHECK(utc_time_ms(1764000000123) == "2025-11-24 16:00:00.123 UTC");
  CHECK(utc_time_ms(0) == "1970-01-01 00:00:00.000 UTC");
}

TEST_CASE("a table aligns text left and numbers right without trailing "
          "blanks") {
  table t{{{"ID", table::align::right}, {"NAME"}, {"BYTES",
                                                    table::align::right}}};
  t.add_row({"7", "shard-10", "1.5 KiB"});
  t.add_row({"12", "router", "0 B"});
  t.add_row({"3"});  // missing cells are empty
  CHECK(t.render() == "ID  NAME        BYTES\n"
                      " 7  shard-10  1.5 KiB\n"
                      "12  router        0 B\n"
                      " 3\n");
}

TEST_CASE("column widths count UTF-8 code points, not bytes") {
  CHECK(display_width("grüße") == 5);
  table t{{{"KEY"}, {"N", table::align::right}}};
  t.add_row({"grüße", "1"});
  t.add_row({"abcdef", "22"});
  CHECK(t.render() == "KEY      N\ngrüße    1\nabcdef  22\n");
}

TEST_CASE("key/value pairs share one key width") {
  CHECK(render_pairs({{"id", "3"}, {"mailbox", "0"}, {"x", ""}}, "  ")
        == "  id       3\n  mailbox  0\n  x\n");
}

}

#include <string>
#include <vector>

#include <doctest/doctest.h>

#include "actors/wal_format.hpp"

using namespace eventide;

namespace {

std::vector<std::string> payloads() {
  return {"first", std::string(1000, 'x'), "", "fourth record",
          std::string(70000, '\x7f')};
}

std::string file_of(const std::vector<std::string>& ps) {
  std::string out;
  for (auto& p : ps)
    append_record(out, p);
  return out;
}

std::vector<std::string> read_all(std::string_view data, scan_result& r) {
  std::vector<std::string> got;
  r = scan_records(data, [&](std::string_view p) {
    got.emplace_back(p);
    return true;
  });
  return got;
}

} // namespace

TEST_SUITE("wal_format") {

TEST_CASE("crc32c matches the published check value") {
  CHECK(crc32c("123456789") == 0xE3069283u);
  CHECK(crc32c("") == 0u);
}

TEST_CASE("records round-trip") {
  auto ps = payloads();
  auto data = file_of(ps);
  scan_result r;
  CHECK(read_all(data, r) == ps);
  CHECK(r.how == scan_result::end::clean);
  CHECK(r.records == ps.size());
  CHECK(r.valid_bytes == data.size());
}

TEST_CASE("a tail torn at every byte of the last record recovers the rest") {
  auto ps = payloads();
  ps.back() = "the last record, cut short by a crash";
  auto data = file_of(ps);
  std::vector<std::string> before(ps.begin(), ps.end() - 1);
  auto good = file_of(before).size();
  for (auto cut = good; cut < data.size(); ++cut) {
    CAPTURE(cut);
    scan_result r;
    auto got = read_all(std::string_view{data}.substr(0, cut), r);
    CHECK(got == before);
    CHECK(r.valid_bytes == good);
    if (cut == good)
      CHECK(r.how == scan_result::end::clean);
    else
      CHECK(r.how == scan_result::end::torn_tail);
  }
}

TEST_CASE("a zero-filled tail is a torn tail") {
  auto data = file_of(payloads());
  auto good = data.size();
  data.append(4096, '\0');
  scan_result r;
  CHECK(read_all(data, r).size() == payloads().size());
  CHECK(r.how == scan_result::end::torn_tail);
  CHECK(r.valid_bytes == good);
}

TEST_CASE("a flipped bit anywhere is detected, never returned as data") {
  std::vector<std::string> ps{"alpha", "beta-beta", "gamma-gamma-gamma"};
  auto clean = file_of(ps);
  auto second_start = file_of({ps[0]}).size();
  auto third_start = file_of({ps[0], ps[1]}).size();
  for (std::size_t byte = 0; byte < clean.size(); ++byte) {
    for (int bit = 0; bit < 8; ++bit) {
      CAPTURE(byte);
      CAPTURE(bit);
      auto data = clean;
      data[byte] = static_cast<char>(data[byte] ^ (1 << bit));
      scan_result r;
      auto got = read_all(data, r);
      REQUIRE(r.how != scan_result::end::clean);
      // Everything before the damaged record comes back intact.
      auto damaged = byte < second_start  ? 0
                     : byte < third_start ? 1
                                          : 2;
      CHECK(got == std::vector<std::string>(ps.begin(), ps.begin() + damaged));
      // Damage before the last record is corruption, not a torn tail:
      // start-up must stop instead of dropping the records after it.
      if (damaged < 2)
        CHECK(r.how == scan_result::end::corrupt);
    }
  }
}

TEST_CASE("the callback can stop the scan") {
  auto data = file_of(payloads());
  int seen = 0;
  auto r = scan_records(data, [&](std::string_view) { return ++seen < 2; });
  CHECK(seen == 2);
  CHECK(r.how == scan_result::end::clean);
  CHECK(r.records == 2);
}

}

#include <stdlib.h>

#include <filesystem>
#include <string>
#include <vector>

#include <doctest/doctest.h>

#include "actors/wal_format.hpp"
#include "actors/wal_log.hpp"

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

namespace {

struct temp_dir {
  std::string path;
  temp_dir() {
    char tmpl[] = "/tmp/eventide-wal-XXXXXX";
    path = mkdtemp(tmpl);
  }
  ~temp_dir() {
    std::filesystem::remove_all(path);
  }
};

std::size_t segment_files(const std::string& dir) {
  std::size_t n = 0;
  for (auto& e : std::filesystem::directory_iterator(dir + "/wal"))
    n += e.path().extension() == ".log";
  return n;
}

} // namespace

TEST_SUITE("wal_log") {

TEST_CASE("batches written across segments are replayed in order; "
          "snapshots let old segments go") {
  temp_dir d;
  open_data_dir(d.path, 2);
  {
    wal_log log{d.path, 2, 1024, {}};
    for (uint64_t seq = 1; seq <= 40; ++seq) {
      log.add(seq % 2, seq, std::string(100, static_cast<char>('a' + seq % 26)));
      log.flush(seq % 3 == 0);
    }
    CHECK(segment_files(d.path) > 3);
  }
  std::vector<std::pair<uint32_t, uint64_t>> seen;
  auto rec = recover_wal(d.path, 2, {0, 0},
                         [&](uint32_t shard, uint64_t seq, std::string_view b) {
                           CHECK(b.size() == 100);
                           CHECK(b[0] == static_cast<char>('a' + seq % 26));
                           seen.emplace_back(shard, seq);
                         });
  REQUIRE(seen.size() == 40);
  for (uint64_t i = 0; i < 40; ++i)
    CHECK(seen[i] == std::make_pair(static_cast<uint32_t>((i + 1) % 2), i + 1));
  CHECK(rec.last_seq == std::vector<uint64_t>{40, 39});
  CHECK(rec.truncated_bytes == 0);
  // Snapshots at seqs 30 (shard 0) and 29 (shard 1) cover the segments
  // holding batches up to there; replay from them skips what they cover.
  auto before = segment_files(d.path);
  {
    wal_log log{d.path, 2, 1024, rec.segments};
    log.covered(0, 30);
    CHECK(segment_files(d.path) == before); // shard 1 not covered yet
    log.covered(1, 29);
    CHECK(segment_files(d.path) < before);
  }
  std::vector<uint64_t> after;
  recover_wal(d.path, 2, {30, 29},
              [&](uint32_t, uint64_t seq, std::string_view) {
                after.push_back(seq);
              });
  CHECK(after == std::vector<uint64_t>{31, 32, 33, 34, 35, 36, 37, 38, 39, 40});
}

TEST_CASE("a data dir of another shard count or format is refused") {
  temp_dir d;
  open_data_dir(d.path, 4);
  open_data_dir(d.path, 4); // the same fits
  CHECK_THROWS_WITH_AS(open_data_dir(d.path, 8),
                       doctest::Contains("engine.shards=4"),
                       std::runtime_error);
}

}

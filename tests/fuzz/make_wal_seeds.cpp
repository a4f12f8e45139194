// Writes the seed corpus of fuzz_wal_scan with the real record writer
// (actors/wal_format). Build and run by hand when the format changes:
//   g++ -std=c++20 -I. tests/fuzz/make_wal_seeds.cpp actors/wal_format.cpp \
//     -o /tmp/make_wal_seeds && /tmp/make_wal_seeds tests/fuzz/corpus/wal_scan

#include <cstdio>
#include <fstream>
#include <string>

#include "actors/wal_format.hpp"

using eventide::append_record;

namespace {

void write(const std::string& dir, const std::string& name,
           const std::string& bytes) {
  std::ofstream out{dir + "/" + name, std::ios::binary};
  out << bytes;
}

} // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: make_wal_seeds DIR\n");
    return 64;
  }
  std::string dir = argv[1];
  std::string one;
  append_record(one, R"({"id":"e-1","key":"user:42","op":"incr"})");
  write(dir, "one_record", one);
  std::string empty;
  append_record(empty, "");
  write(dir, "empty_payload", empty);
  std::string many;
  for (int i = 0; i < 6; ++i)
    append_record(many, std::string(static_cast<std::size_t>(i * 7), 'a' + i));
  write(dir, "many_records", many);
  write(dir, "torn_tail", many.substr(0, many.size() - 3));
  write(dir, "torn_header", many + one.substr(0, 5));
  write(dir, "zero_tail", many + std::string(40, '\0'));
  std::string flipped = many;
  flipped[20] ^= 0x10; // inside the second record
  write(dir, "bad_crc_middle", flipped);
  std::string bad_last = many;
  bad_last.back() ^= 1;
  write(dir, "bad_crc_last", bad_last);
  std::string bad_len = many;
  bad_len[0] ^= 1;
  write(dir, "damaged_header", bad_len);
  return 0;
}

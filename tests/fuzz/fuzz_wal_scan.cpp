// libFuzzer target: actors/wal_format scan_records on arbitrary bytes.
// Under ASan an out-of-bounds read crashes; the checks are that the scan's
// account of the file is consistent: valid_bytes within the input, the
// records it handed over re-frame to exactly the valid prefix, and a clean
// scan covers the whole input.

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "actors/wal_format.hpp"
#include "tests/fuzz/fuzz_common.hpp"

using namespace eventide;
using fuzz::check;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, std::size_t size) {
  // A copy of exactly `size` bytes, so that ASan sees a read past its end.
  std::vector<char> bytes(data, data + size);
  std::string_view input{bytes.data(), bytes.size()};

  std::vector<std::string_view> payloads;
  auto res = scan_records(input, [&](std::string_view p) {
    check(p.data() >= input.data()
          && p.data() + p.size() <= input.data() + input.size());
    payloads.push_back(p);
    return true;
  });
  check(res.valid_bytes <= size);
  check(res.records == payloads.size());
  if (res.how == scan_result::end::clean)
    check(res.valid_bytes == size && res.reason.empty());
  else
    check(!res.reason.empty());

  std::string reframed;
  for (auto p : payloads)
    append_record(reframed, p);
  check(reframed.size() == res.valid_bytes);
  check(input.substr(0, res.valid_bytes) == reframed);

  // Scanning the valid prefix alone is clean with the same records.
  uint64_t again = 0;
  auto prefix = scan_records(input.substr(0, res.valid_bytes),
                             [&](std::string_view) { return ++again, true; });
  check(prefix.how == scan_result::end::clean && again == res.records);

  // Stopping early is reported as clean, with fewer records.
  if (res.records > 1) {
    uint64_t seen = 0;
    auto stopped = scan_records(input, [&](std::string_view) {
      return ++seen < 1;
    });
    check(stopped.how == scan_result::end::clean && seen == 1);
  }
  return 0;
}

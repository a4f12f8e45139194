// libFuzzer target: app/line_framer. The first bytes choose the line limit
// and the read sizes; the rest is the stream. Checks the framer against a
// reference framing of the whole stream, whatever the split.

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "app/line_framer.hpp"

using eventide::ingest_chunk;
using eventide::line_framer;

namespace {

void check(bool ok) {
  if (!ok)
    __builtin_trap();
}

/// What the framing of `in` must be: per line, its text or oversized.
struct expected_line {
  bool oversized;
  std::string_view text;
};

std::vector<expected_line> reference(std::string_view in, std::size_t max) {
  std::vector<expected_line> out;
  while (!in.empty()) {
    auto nl = in.find('\n');
    auto line = in.substr(0, nl);
    out.push_back({line.size() > max, line});
    in = nl == std::string_view::npos ? std::string_view{} : in.substr(nl + 1);
  }
  return out;
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, std::size_t size) {
  if (size < 4)
    return 0;
  // Limit 0..63 so that oversized lines are common; read sizes 1..16 * k.
  std::size_t max = data[0] & 63u;
  uint64_t first_seq = data[1] & 1u; // 0 for HTTP, 1 for TCP
  unsigned take_every = (data[2] & 7u) + 1; // take_chunk after n feeds
  uint8_t sizes_seed = data[3];
  data += 4;
  size -= 4;
  std::string_view stream{reinterpret_cast<const char*>(data), size};

  line_framer framer{max, first_seq};
  std::vector<ingest_chunk> chunks;
  std::size_t pos = 0;
  unsigned feeds = 0;
  uint8_t state = sizes_seed;
  while (pos < stream.size()) {
    state = static_cast<uint8_t>(state * 37u + 11u);
    std::size_t n = std::min<std::size_t>((state % 24u) + 1, stream.size() - pos);
    framer.feed(stream.data() + pos, n);
    pos += n;
    check(framer.partial_bytes() <= max);
    if (++feeds % take_every == 0)
      chunks.push_back(framer.take_chunk());
  }
  framer.finish();
  chunks.push_back(framer.take_chunk());
  check(framer.take_chunk().line_count == 0);

  auto want = reference(stream, max);
  check(framer.next_seq() == first_seq + want.size());

  uint64_t seq = first_seq;
  std::size_t line = 0;
  for (const auto& c : chunks) {
    check(c.first_seq == seq); // contiguous across chunks
    // Data lines + oversized == line_count; every line within the limit.
    uint64_t data_lines = 0;
    std::string_view rest{c.data};
    std::vector<std::string_view> lines;
    while (!rest.empty()) {
      auto nl = rest.find('\n');
      lines.push_back(rest.substr(0, nl));
      rest = nl == std::string_view::npos ? std::string_view{}
                                          : rest.substr(nl + 1);
      ++data_lines;
    }
    check(data_lines + c.oversized.size() == c.line_count);
    for (std::size_t i = 1; i < c.oversized.size(); ++i)
      check(c.oversized[i - 1] < c.oversized[i]);
    std::size_t next_data = 0;
    std::size_t next_over = 0;
    for (uint64_t s = c.first_seq; s < c.first_seq + c.line_count; ++s) {
      check(line < want.size());
      const auto& w = want[line++];
      if (next_over < c.oversized.size() && c.oversized[next_over] == s) {
        check(w.oversized);
        ++next_over;
      } else {
        check(!w.oversized);
        check(next_data < lines.size());
        check(lines[next_data].size() <= max);
        check(lines[next_data] == w.text);
        ++next_data;
      }
    }
    check(next_over == c.oversized.size() && next_data == lines.size());
    seq += c.line_count;
  }
  check(line == want.size());
  return 0;
}

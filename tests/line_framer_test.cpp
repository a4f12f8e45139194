#include "app/line_framer.hpp"

#include <string>
#include <string_view>
#include <vector>

#include <doctest/doctest.h>

using eventide::ingest_chunk;
using eventide::line_framer;

namespace {

/// Feeds `input` in pieces of `step` bytes (0 = whole), then takes one chunk.
ingest_chunk frame(std::string_view input, std::size_t max_line,
                   std::size_t step, bool finish = false) {
  line_framer framer{max_line};
  if (step == 0)
    step = input.size() + 1;
  for (std::size_t pos = 0; pos < input.size(); pos += step) {
    auto n = std::min(step, input.size() - pos);
    framer.feed(input.data() + pos, n);
  }
  if (finish)
    framer.finish();
  return framer.take_chunk();
}

/// The same input split at 1, 2, 5, 10, 100 bytes and whole must agree.
ingest_chunk frame_every_way(std::string_view input, std::size_t max_line,
                             bool finish = false) {
  auto whole = frame(input, max_line, 0, finish);
  for (std::size_t step : {1, 2, 5, 10, 100}) {
    CAPTURE(step);
    auto split = frame(input, max_line, step, finish);
    CHECK(split.first_seq == whole.first_seq);
    CHECK(split.line_count == whole.line_count);
    CHECK(split.data == whole.data);
    CHECK(split.oversized == whole.oversized);
  }
  return whole;
}

} // namespace

TEST_SUITE("line_framer") {

  TEST_CASE("complete lines are numbered from 1 and kept with their newline") {
    auto chunk = frame_every_way("{\"a\":1}\n{\"b\":2}\n{\"c\":3}\n", 100);
    CHECK(chunk.format == eventide::chunk_format::ndjson);
    CHECK(chunk.first_seq == 1);
    CHECK(chunk.line_count == 3);
    CHECK(chunk.data == "{\"a\":1}\n{\"b\":2}\n{\"c\":3}\n");
    CHECK(chunk.oversized.empty());
  }

  TEST_CASE("a partial line is held back until its newline arrives") {
    line_framer framer{100};
    framer.feed("one\ntw", 6);
    auto first = framer.take_chunk();
    CHECK(first.line_count == 1);
    CHECK(first.data == "one\n");
    CHECK(framer.partial_bytes() == 2);
    framer.feed("o\n", 2);
    auto second = framer.take_chunk();
    CHECK(second.first_seq == 2);
    CHECK(second.line_count == 1);
    CHECK(second.data == "two\n");
  }

  TEST_CASE("blank lines take a sequence number") {
    auto chunk = frame_every_way("a\n\n\nb\n", 100);
    CHECK(chunk.line_count == 4);
    CHECK(chunk.data == "a\n\n\nb\n");
  }

  TEST_CASE("CRLF line endings pass through untouched") {
    auto chunk = frame_every_way("a\r\nb\r\n", 100);
    CHECK(chunk.line_count == 2);
    CHECK(chunk.data == "a\r\nb\r\n");
  }

  TEST_CASE("a last line without newline counts only after finish") {
    auto open = frame_every_way("a\nlast", 100);
    CHECK(open.line_count == 1);
    CHECK(open.data == "a\n");
    auto finished = frame_every_way("a\nlast", 100, true);
    CHECK(finished.line_count == 2);
    CHECK(finished.data == "a\nlast");
  }

  TEST_CASE("finish without a partial line adds nothing") {
    auto chunk = frame_every_way("a\nb\n", 100, true);
    CHECK(chunk.line_count == 2);
    CHECK(chunk.data == "a\nb\n");
  }

  TEST_CASE("an oversized line is dropped and its number recorded") {
    std::string big(50, 'x');
    auto input = "ok\n" + big + "\nfine\n";
    auto chunk = frame_every_way(input, 10);
    CHECK(chunk.line_count == 3);
    CHECK(chunk.data == "ok\nfine\n");
    CHECK(chunk.oversized == std::vector<uint64_t>{2});
  }

  TEST_CASE("a line exactly at the limit is kept") {
    auto chunk = frame_every_way("0123456789\n01234567890\n", 10);
    CHECK(chunk.line_count == 2);
    CHECK(chunk.data == "0123456789\n");
    CHECK(chunk.oversized == std::vector<uint64_t>{2});
  }

  TEST_CASE("an oversized line split across reads is never buffered") {
    line_framer framer{10};
    std::string big(8, 'x');
    framer.feed(big.data(), big.size());
    CHECK(framer.partial_bytes() == 8);
    framer.feed(big.data(), big.size());
    CHECK(framer.partial_bytes() == 0);
    framer.feed(big.data(), big.size());
    CHECK(framer.partial_bytes() == 0);
    framer.feed("x\nnext\n", 7);
    auto chunk = framer.take_chunk();
    CHECK(chunk.line_count == 2);
    CHECK(chunk.data == "next\n");
    CHECK(chunk.oversized == std::vector<uint64_t>{1});
  }

  TEST_CASE("an oversized last line without newline is reported at finish") {
    auto chunk = frame_every_way("a\n" + std::string(30, 'y'), 10, true);
    CHECK(chunk.line_count == 2);
    CHECK(chunk.data == "a\n");
    CHECK(chunk.oversized == std::vector<uint64_t>{2});
  }

  TEST_CASE("consecutive chunks continue the numbering") {
    line_framer framer{10};
    framer.feed("a\nb\n", 4);
    auto first = framer.take_chunk();
    std::string big(20, 'z');
    framer.feed(big.data(), big.size());
    framer.feed("\nc\n", 3);
    auto second = framer.take_chunk();
    CHECK(first.first_seq == 1);
    CHECK(first.line_count == 2);
    CHECK(second.first_seq == 3);
    CHECK(second.line_count == 2);
    CHECK(second.data == "c\n");
    CHECK(second.oversized == std::vector<uint64_t>{3});
    CHECK(framer.next_seq() == 5);
  }

  TEST_CASE("taking a chunk with nothing pending gives an empty chunk") {
    line_framer framer{10};
    framer.feed("abc", 3);
    auto chunk = framer.take_chunk();
    CHECK(chunk.line_count == 0);
    CHECK(chunk.data.empty());
    CHECK(chunk.first_seq == 1);
  }

  TEST_CASE("numbering may start at zero for an HTTP body") {
    line_framer framer{100, 0};
    std::string body = "a\nb";
    framer.feed(body.data(), body.size());
    framer.finish();
    auto chunk = framer.take_chunk();
    CHECK(chunk.first_seq == 0);
    CHECK(chunk.line_count == 2);
    CHECK(chunk.data == "a\nb");
  }

} // TEST_SUITE

// libFuzzer target: the event decoder and validator (actors/event_codec,
// actors/chunk_decoder). Byte 0 picks the limits and the shard count; the
// rest is decoded as one event line, as an NDJSON chunk framed like a
// connection, and as an application/json body.

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "actors/chunk_decoder.hpp"
#include "actors/event_codec.hpp"
#include "actors/placement.hpp"
#include "app/line_framer.hpp"
#include "messages/messages.hpp"
#include "messages/serialization.hpp"
#include "tests/fuzz/fuzz_common.hpp"

using namespace eventide;
using fuzz::check;

namespace {

/// Checks what the decoder claims about every event of `b`.
void check_events(const event_batch& b) {
  check(b.well_formed());
  for (std::size_t i = 0; i < b.size(); ++i) {
    auto ev = b[i];
    check(!ev.id().empty() && ev.id().size() <= 128);
    check(!ev.key().empty() && ev.key().size() <= 512);
    check(ev.key_hash() == stable_key_hash(ev.key()));
    check(ev.ts() >= 0);
    if (ev.op() != op_code::del)
      check(ev.has_data());
    for (std::size_t f = 0; f < ev.field_count(); ++f) {
      auto fv = ev.field(f);
      if (ev.op() == op_code::incr)
        check(fv.kind != value_kind::raw);
      (void) fv;
    }
  }
}

/// A batch survives CAF's binary format unchanged.
void check_round_trip(const event_batch& b) {
  auto bytes = to_bytes(b);
  event_batch copy;
  from_bytes(bytes, copy);
  check(copy.well_formed());
  check(copy.shard == b.shard && copy.text == b.text
        && copy.events.size() == b.events.size()
        && copy.fields.size() == b.fields.size());
  check(to_bytes(copy) == bytes);
}

void check_decoded(const ingest_chunk& chunk, uint32_t shards,
                   const decoded_chunk& out, uint64_t blank) {
  const auto& res = out.result;
  check(res.first_seq == chunk.first_seq);
  if (res.not_json) {
    check(chunk.format == chunk_format::json_value);
    check(out.scratch.empty() && res.rejected.empty());
    return;
  }
  // Every line is accounted for exactly once.
  check(out.scratch.size() + res.rejected.size() + blank == res.line_count);
  if (chunk.format == chunk_format::ndjson)
    check(res.line_count == chunk.line_count);
  for (std::size_t i = 0; i < res.rejected.size(); ++i) {
    const auto& r = res.rejected[i];
    check(r.seq >= chunk.first_seq
          && r.seq < chunk.first_seq + res.line_count);
    if (i > 0)
      check(res.rejected[i - 1].seq < r.seq);
  }
  check_events(out.scratch);
  check(out.per_shard.size() == shards);
  std::size_t total = 0;
  for (uint32_t s = 0; s < shards; ++s) {
    const auto& b = out.per_shard[s];
    check(b.shard == s);
    check_events(b);
    for (std::size_t i = 0; i < b.size(); ++i) {
      check(b[i].key_hash() % shards == s);
      if (i > 0)
        check(b[i - 1].seq() < b[i].seq());
    }
    total += b.size();
    check_round_trip(b);
  }
  check(total == out.scratch.size());
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, std::size_t size) {
  fuzz::input in{data, size};
  auto cfg = in.byte();
  input_limits limits;
  limits.max_depth = (cfg & 7u) == 0 ? 32 : (cfg & 7u); // 1..7 or default
  limits.max_event_bytes = (cfg & 8u) ? 65536 : 256;
  uint32_t shards = ((cfg >> 4) & 3u) + 1;
  auto text = in.rest();

  // One line.
  {
    event_batch batch;
    batch.text = "prefix"; // decode_event appends after what is there
    auto before = batch;
    auto rej = decode_event(text, 7, limits, batch);
    if (rej) {
      check(rej->seq == 7 && rej->code != error_code::internal);
      check(batch.text == before.text && batch.events.empty()
            && batch.fields.empty());
    } else {
      check(batch.size() == 1 && batch[0].seq() == 7);
      check(batch.text.substr(0, 6) == "prefix");
      check_events(batch);
      check_round_trip(batch);
    }
  }

  // An NDJSON chunk, framed as a connection does.
  {
    line_framer framer{limits.max_event_bytes, 1};
    framer.feed(text.data(), text.size());
    framer.finish();
    auto chunk = framer.take_chunk();
    uint64_t blank = 0;
    std::string_view rest{chunk.data};
    while (!rest.empty()) {
      auto nl = rest.find('\n');
      blank += is_blank(rest.substr(0, nl)) ? 1 : 0;
      rest = nl == std::string_view::npos ? std::string_view{}
                                          : rest.substr(nl + 1);
    }
    decoded_chunk out;
    decode_chunk(chunk, shards, limits, 1764000000000, out);
    check_decoded(chunk, shards, out, blank);
    for (const auto& r : out.result.rejected)
      if (std::binary_search(chunk.oversized.begin(), chunk.oversized.end(),
                             r.seq))
        check(r.code == error_code::too_large);
    // The decoder is reused across chunks: a second run gives the same.
    auto first = to_bytes(out.scratch);
    decode_chunk(chunk, shards, limits, 1764000000000, out);
    check(to_bytes(out.scratch) == first);
  }

  // An application/json body.
  {
    ingest_chunk chunk;
    chunk.format = chunk_format::json_value;
    chunk.first_seq = 0;
    chunk.data = std::string{text};
    decoded_chunk out;
    decode_chunk(chunk, shards, limits, 1764000000000, out);
    check_decoded(chunk, shards, out, 0);
  }
  return 0;
}

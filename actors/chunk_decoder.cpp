#include "actors/chunk_decoder.hpp"

#include <string_view>

#include "actors/placement.hpp"

namespace eventide {

namespace {

void add_line(std::string_view line, uint64_t seq, uint32_t shards,
              const input_limits& limits, int64_t now_ms,
              decoded_chunk& out) {
  if (is_blank(line))
    return; // blank lines take a number and are otherwise ignored
  auto decoded = decode_event(line, seq, limits);
  if (auto* rej = std::get_if<rejection>(&decoded)) {
    out.result.rejected.push_back(std::move(*rej));
    return;
  }
  auto& ev = std::get<event>(decoded);
  if (!ev.has_ts)
    ev.ts = now_ms;
  out.per_shard[shard_of(ev.key, shards)].push_back(std::move(ev));
}

rejection too_large(uint64_t seq, const input_limits& limits) {
  return {seq, {}, error_code::too_large,
          "line longer than " + std::to_string(limits.max_event_bytes)
            + " bytes"};
}

void decode_ndjson(const ingest_chunk& chunk, uint32_t shards,
                   const input_limits& limits, int64_t now_ms,
                   decoded_chunk& out) {
  std::string_view rest{chunk.data};
  auto seq = chunk.first_seq;
  auto skipped = chunk.oversized.begin();
  // Oversized lines were dropped by the framer but keep their numbers.
  auto skip_oversized = [&] {
    while (skipped != chunk.oversized.end() && *skipped == seq) {
      out.result.rejected.push_back(too_large(seq++, limits));
      ++skipped;
    }
  };
  while (!rest.empty()) {
    skip_oversized();
    auto nl = rest.find('\n');
    auto line = rest.substr(0, nl);
    rest = nl == std::string_view::npos ? std::string_view{}
                                        : rest.substr(nl + 1);
    add_line(line, seq++, shards, limits, now_ms, out);
  }
  skip_oversized();
  auto leftover = static_cast<uint64_t>(chunk.oversized.end() - skipped);
  while (skipped != chunk.oversized.end())
    out.result.rejected.push_back(too_large(*skipped++, limits));
  out.result.line_count = seq - chunk.first_seq + leftover;
}

void decode_json_body(const ingest_chunk& chunk, uint32_t shards,
                      const input_limits& limits, int64_t now_ms,
                      decoded_chunk& out) {
  std::string detail;
  auto elements = split_json_body(chunk.data, limits.max_depth, &detail);
  if (!elements) {
    out.result.not_json = true;
    out.result.not_json_detail = std::move(detail);
    return;
  }
  auto seq = chunk.first_seq;
  for (auto element : *elements)
    add_line(element, seq++, shards, limits, now_ms, out);
  out.result.line_count = elements->size();
}

} // namespace

void decode_chunk(const ingest_chunk& chunk, uint32_t shards,
                  const input_limits& limits, int64_t now_ms,
                  decoded_chunk& out) {
  out.result = chunk_result{};
  out.result.first_seq = chunk.first_seq;
  out.per_shard.resize(shards);
  for (auto& events : out.per_shard)
    events.clear();
  if (chunk.format == chunk_format::json_value)
    decode_json_body(chunk, shards, limits, now_ms, out);
  else
    decode_ndjson(chunk, shards, limits, now_ms, out);
}

} // namespace eventide

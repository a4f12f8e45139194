#include "actors/chunk_decoder.hpp"

#include <string_view>
#include <vector>

namespace eventide {

namespace {

void add_line(std::string_view line, uint64_t seq, uint32_t shards,
              const input_limits& limits, int64_t now_ms, uint32_t list_limit,
              decoded_chunk& out) {
  if (is_blank(line))
    return; // blank lines take a number and are otherwise ignored
  auto text_begin = out.scratch.text.size();
  if (auto rej = decode_event(line, seq, limits, out.scratch)) {
    add_rejection(out.result, std::move(*rej), list_limit);
    return;
  }
  auto& rec = out.scratch.events.back();
  if (!rec.has_ts)
    rec.ts = now_ms;
  // The codec wrote exactly this event's strings.
  out.routes.push_back({static_cast<uint32_t>(rec.key_hash % shards),
                        {text_begin, out.scratch.text.size()}});
}

/// Copies the events of `scratch` into their shards' batches, each sized
/// exactly once: they wait in mailboxes, where slack would be memory.
void split_by_shard(decoded_chunk& out) {
  struct totals {
    std::size_t events = 0;
    std::size_t fields = 0;
    std::size_t text = 0;
  };
  std::vector<totals> sizes(out.per_shard.size());
  for (std::size_t i = 0; i < out.routes.size(); ++i) {
    const auto& route = out.routes[i];
    auto& t = sizes[route.shard];
    t.events += 1;
    t.fields += out.scratch.events[i].field_count;
    t.text += route.strings.second - route.strings.first;
  }
  for (std::size_t s = 0; s < sizes.size(); ++s) {
    auto& batch = out.per_shard[s];
    batch.events.reserve(sizes[s].events);
    batch.fields.reserve(sizes[s].fields);
    batch.text.reserve(sizes[s].text);
  }
  for (std::size_t i = 0; i < out.routes.size(); ++i) {
    const auto& route = out.routes[i];
    out.per_shard[route.shard].append(out.scratch, i, route.strings);
  }
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
      add_rejection(out.result, too_large(seq++, limits), chunk.list_limit);
      ++skipped;
    }
  };
  while (!rest.empty()) {
    skip_oversized();
    auto nl = rest.find('\n');
    auto line = rest.substr(0, nl);
    rest = nl == std::string_view::npos ? std::string_view{}
                                        : rest.substr(nl + 1);
    add_line(line, seq++, shards, limits, now_ms, chunk.list_limit, out);
  }
  skip_oversized();
  auto leftover = static_cast<uint64_t>(chunk.oversized.end() - skipped);
  while (skipped != chunk.oversized.end())
    add_rejection(out.result, too_large(*skipped++, limits),
                  chunk.list_limit);
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
    add_line(element, seq++, shards, limits, now_ms, chunk.list_limit, out);
  out.result.line_count = elements->size();
}

} // namespace

void decode_chunk(const ingest_chunk& chunk, uint32_t shards,
                  const input_limits& limits, int64_t now_ms,
                  decoded_chunk& out) {
  out.result = chunk_result{};
  out.result.first_seq = chunk.first_seq;
  out.scratch.clear();
  out.routes.clear();
  out.per_shard.resize(shards);
  for (uint32_t s = 0; s < shards; ++s) {
    out.per_shard[s].clear();
    out.per_shard[s].shard = s;
  }
  if (chunk.format == chunk_format::json_value)
    decode_json_body(chunk, shards, limits, now_ms, out);
  else
    decode_ndjson(chunk, shards, limits, now_ms, out);
  split_by_shard(out);
}

} // namespace eventide

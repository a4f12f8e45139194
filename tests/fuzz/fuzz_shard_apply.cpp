// libFuzzer target: shard_store's apply of set/incr/del (DESIGN.md §2),
// de-dup, rendering, snapshot and restore. Byte 0 picks the batch size
// and the de-dup window; the rest is NDJSON decoded by the real decoder
// (one shard), applied batch by batch.

#include <cstddef>
#include <cstdint>
#include <set>
#include <string>
#include <string_view>

#include <boost/json/parse.hpp>

#include "actors/chunk_decoder.hpp"
#include "actors/shard_store.hpp"
#include "app/line_framer.hpp"
#include "messages/messages.hpp"
#include "messages/serialization.hpp"
#include "tests/fuzz/fuzz_common.hpp"

using namespace eventide;
using fuzz::check;

namespace {

void check_same(const apply_outcome& a, const apply_outcome& b) {
  check(a.applied == b.applied && a.duplicates == b.duplicates
        && a.rejected.size() == b.rejected.size());
  for (std::size_t i = 0; i < a.rejected.size(); ++i)
    check(a.rejected[i].seq == b.rejected[i].seq
          && a.rejected[i].code == b.rejected[i].code);
}

/// Every record renders as a JSON object naming its key.
void check_record(const shard_store& store, const std::string& key) {
  auto rec = store.get(key);
  if (!rec)
    return;
  boost::system::error_code ec;
  auto v = boost::json::parse(*rec, ec);
  check(!ec && v.is_object());
  const auto& obj = v.get_object();
  auto* k = obj.if_contains("key");
  check(k != nullptr && k->is_string() && k->get_string() == key);
  auto* fields = obj.if_contains("fields");
  check(fields != nullptr && fields->is_object());
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, std::size_t size) {
  fuzz::input in{data, size};
  auto cfg = in.byte();
  std::size_t batch_size = (cfg & 7u) + 1;
  shard_limits limits;
  limits.dedup_window = (cfg & 0x80u) ? 15625 : ((cfg >> 3) & 15u) + 1;
  auto text = in.rest();

  input_limits in_limits;
  line_framer framer{in_limits.max_event_bytes, 1};
  framer.feed(text.data(), text.size());
  framer.finish();
  decoded_chunk decoded;
  decode_chunk(framer.take_chunk(), 1, in_limits, 1764000000000, decoded);

  shard_store store{0, limits};
  std::set<std::string> keys;
  const auto& all = decoded.scratch;
  event_batch last;
  for (std::size_t first = 0; first < all.size(); first += batch_size) {
    event_batch batch;
    for (std::size_t i = first; i < all.size() && i < first + batch_size;
         ++i) {
      batch.append(all, i, decoded.routes[i].strings);
      keys.emplace(all[i].key());
    }
    check(batch.well_formed());
    auto out = store.apply(batch);
    check(out.applied + out.duplicates + out.rejected.size() == batch.size());
    for (const auto& r : out.rejected)
      check(r.code != error_code::internal);
    last = std::move(batch);
  }
  auto stats = store.stats();
  check(stats.keys <= keys.size());

  for (const auto& key : keys)
    check_record(store, key);

  // snapshot -> bytes -> restore gives the same records and de-dup state.
  auto snap = store.snapshot(42);
  shard_snapshot snap_copy;
  from_bytes(to_bytes(snap), snap_copy);
  shard_store copy{0, limits};
  copy.restore(snap_copy);
  for (const auto& key : keys)
    check(copy.get(key) == store.get(key));
  auto cs = copy.stats();
  check(cs.keys == stats.keys && cs.events_applied == stats.events_applied
        && cs.duplicates == stats.duplicates && cs.rejected == stats.rejected
        && cs.dedup_ids == stats.dedup_ids);
  if (!last.empty())
    check_same(store.apply(last), copy.apply(last));
  for (const auto& key : keys)
    check(copy.get(key) == store.get(key));

  // erase removes exactly that record.
  if (!keys.empty()) {
    const auto& victim = *keys.begin();
    bool had = store.get(victim).has_value();
    check(store.erase(victim) == had);
    check(!store.get(victim).has_value());
    check(!store.erase(victim));
    for (const auto& key : keys)
      check_record(store, key);
  }
  return 0;
}

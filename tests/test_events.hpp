#pragma once

// Events by value, for writing and checking tests readably; the server only
// ever handles them packed in an `event_batch`.

#include <bit>
#include <cstdint>
#include <string>
#include <vector>

#include "actors/placement.hpp"
#include "messages/event.hpp"
#include "messages/event_batch.hpp"

namespace eventide::test {

struct field_value {
  value_kind type = value_kind::raw;
  int64_t integer = 0;
  double real = 0;
  std::string raw; // JSON text when type == raw
};

struct field {
  std::string name;
  field_value value;
};

struct event {
  uint64_t seq = 0;
  std::string id;
  std::string key;
  op_code op = op_code::set;
  bool has_data = false;
  std::vector<field> data;
  bool has_ts = false;
  int64_t ts = 0;
};

/// A copy of the event a view shows.
inline event to_event(const event_view& v) {
  event ev;
  ev.seq = v.seq();
  ev.id = v.id();
  ev.key = v.key();
  ev.op = v.op();
  ev.has_data = v.has_data();
  ev.has_ts = v.has_ts();
  ev.ts = v.ts();
  for (std::size_t i = 0; i < v.field_count(); ++i) {
    auto f = v.field(i);
    ev.data.push_back({std::string(f.name),
                       {f.kind, f.integer, f.real, std::string(f.raw)}});
  }
  return ev;
}

/// Appends `ev` to `batch` as the codec would (key hash included).
inline void append(event_batch& batch, const event& ev) {
  auto put = [&](const std::string& s) {
    auto offset = static_cast<uint32_t>(batch.text.size());
    batch.text += s;
    return offset;
  };
  event_record rec;
  rec.seq = ev.seq;
  rec.key_hash = stable_key_hash(ev.key);
  rec.ts = ev.ts;
  rec.id_offset = put(ev.id);
  rec.id_size = static_cast<uint16_t>(ev.id.size());
  rec.key_offset = put(ev.key);
  rec.key_size = static_cast<uint16_t>(ev.key.size());
  rec.first_field = static_cast<uint32_t>(batch.fields.size());
  rec.field_count = static_cast<uint32_t>(ev.data.size());
  rec.op = ev.op;
  rec.has_data = ev.has_data;
  rec.has_ts = ev.has_ts;
  for (const auto& f : ev.data) {
    field_record out;
    out.name_offset = put(f.name);
    out.name_size = static_cast<uint32_t>(f.name.size());
    out.kind = f.value.type;
    if (f.value.type == value_kind::integer)
      out.number = static_cast<uint64_t>(f.value.integer);
    else if (f.value.type == value_kind::real)
      out.number = std::bit_cast<uint64_t>(f.value.real);
    else {
      put(f.value.raw); // right after the name, as field_record requires
      out.raw_size = static_cast<uint32_t>(f.value.raw.size());
    }
    batch.fields.push_back(out);
  }
  batch.events.push_back(rec);
}

/// A batch of `events`, in order.
inline event_batch to_batch(const std::vector<event>& events) {
  event_batch batch;
  for (const auto& ev : events)
    append(batch, ev);
  return batch;
}

/// Every event of `batch`, by value.
inline std::vector<event> to_events(const event_batch& batch) {
  std::vector<event> out;
  for (std::size_t i = 0; i < batch.size(); ++i)
    out.push_back(to_event(batch[i]));
  return out;
}

} // namespace eventide::test

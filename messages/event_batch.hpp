#pragma once

// Design note: a batch is what travels parser -> shard, and shard mailboxes
// hold up to `ingest.max-inflight` events per connection, so its size per
// event largely decides the server's peak memory. Events are not objects of
// their own: every string of a batch (ids, keys, field names, raw values)
// sits in one `text` buffer, and each event is a fixed-size record of
// offsets into it, with numbers stored inline. A batch costs three
// allocations however many events it holds (~160 bytes for an event with
// three numeric fields, against ~500 bytes and four allocations as separate
// strings and vectors). Views (`event_view`, `field_view`) materialise the
// strings on the shard side without copying.

#include <bit>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "messages/event.hpp"

namespace eventide {

/// One member of an event's `data` object. Its name is
/// `text[name_offset, +name_size)`; a raw value's JSON text follows the
/// name directly (`raw_size` bytes).
struct field_record {
  uint32_t name_offset = 0;
  uint32_t name_size = 0;
  uint32_t raw_size = 0;
  value_kind kind = value_kind::raw;
  uint64_t number = 0; // integer: the int64 value; real: the double's bits
};

/// One validated event; strings are offsets into the batch's `text`, its
/// fields are `fields[first_field, +field_count)`.
struct event_record {
  uint64_t seq = 0; // line number of its connection, or index in a POST body
  uint64_t key_hash = 0; // stable_key_hash(key): routing and the shard's map
  int64_t ts = 0;        // ms since the Unix epoch
  uint32_t id_offset = 0;
  uint32_t key_offset = 0;
  uint32_t first_field = 0;
  uint32_t field_count = 0;
  uint16_t id_size = 0;  // at most 128
  uint16_t key_size = 0; // at most 512
  op_code op = op_code::set;
  bool has_data = false; // `data` was present (matters for `del`)
  bool has_ts = false;   // `ts` was in the input
};

/// A field of an event, its strings viewing into the batch.
struct field_view {
  std::string_view name;
  value_kind kind = value_kind::raw;
  int64_t integer = 0; // when kind == integer
  double real = 0;     // when kind == real
  std::string_view raw; // JSON text when kind == raw
};

/// An event of a batch, its strings viewing into the batch. Only made for
/// well-formed batches, so offsets are not checked again.
class event_view {
public:
  event_view(const event_record& rec, const field_record* fields,
             std::string_view text)
    : rec_(&rec), fields_(fields), text_(text) {
    // nop
  }

  uint64_t seq() const { return rec_->seq; }
  uint64_t key_hash() const { return rec_->key_hash; }
  int64_t ts() const { return rec_->ts; }
  bool has_ts() const { return rec_->has_ts; }
  op_code op() const { return rec_->op; }
  bool has_data() const { return rec_->has_data; }
  std::string_view id() const { return str(rec_->id_offset, rec_->id_size); }
  std::string_view key() const {
    return str(rec_->key_offset, rec_->key_size);
  }
  std::size_t field_count() const { return rec_->field_count; }

  /// Field `i` (< field_count()) in input order.
  field_view field(std::size_t i) const {
    const auto& f = fields_[rec_->first_field + i];
    field_view out;
    out.name = str(f.name_offset, f.name_size);
    out.kind = f.kind;
    if (f.kind == value_kind::integer)
      out.integer = static_cast<int64_t>(f.number);
    else if (f.kind == value_kind::real)
      out.real = std::bit_cast<double>(f.number);
    else
      out.raw = str(f.name_offset + f.name_size, f.raw_size);
    return out;
  }

private:
  std::string_view str(std::size_t offset, std::size_t size) const {
    return {text_.data() + offset, size};
  }

  const event_record* rec_;
  const field_record* fields_;
  std::string_view text_;
};

/// The events of one chunk that one shard owns, in input order (the
/// parser -> shard message; its `inspect` is in messages.hpp).
struct event_batch {
  uint32_t shard = 0;
  std::string text;                 // every string of every event
  std::vector<event_record> events; // in input order
  std::vector<field_record> fields; // of all events, in event order

  std::size_t size() const { return events.size(); }
  bool empty() const { return events.empty(); }

  event_view operator[](std::size_t i) const {
    return {events[i], fields.data(), text};
  }

  /// Empties the batch, keeping its capacity.
  void clear() {
    text.clear();
    events.clear();
    fields.clear();
  }

  /// Bytes [first, second) of `text`.
  using span = std::pair<std::size_t, std::size_t>;

  /// Appends event `i` of `from` with its fields and its strings, which all
  /// lie in `from.text[strings.first, strings.second)` (the decoder knows
  /// where it wrote them).
  void append(const event_batch& from, std::size_t i, span strings);

  /// True when every offset and size stays within the batch, so that views
  /// are safe (a batch from another node is checked before use).
  bool well_formed() const;
};

/// A WAL record that stands for `DELETE /v1/keys/{key}` rather than for
/// applied events: no events, `shard` set to this marker, the key in `text`.
inline constexpr uint32_t erase_marker = 0xffffffffu;

/// The WAL record of deleting `key`.
inline event_batch erase_batch(std::string key) {
  event_batch b;
  b.shard = erase_marker;
  b.text = std::move(key);
  return b;
}

/// True when `b` is a record made by `erase_batch`.
inline bool is_erase(const event_batch& b) {
  return b.shard == erase_marker && b.events.empty();
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, field_record& x) {
  return f(x.name_offset, x.name_size, x.raw_size, x.kind, x.number);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, event_record& x) {
  return f(x.seq, x.key_hash, x.ts, x.id_offset, x.key_offset, x.first_field,
           x.field_count, x.id_size, x.key_size, x.op, x.has_data, x.has_ts);
}

} // namespace eventide

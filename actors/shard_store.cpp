#include "actors/shard_store.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <utility>

#include "messages/json_text.hpp"

namespace eventide {

namespace {

/// Seed of the record map's hash; differs from any routing hash so that the
/// keys of one shard (all equal modulo the shard count) still spread well.
constexpr uint64_t map_seed = 0x5851F42D4C957F2Dull;

/// Heap bytes behind a std::string (0 while it fits the inline buffer).
std::size_t heap_of(const std::string& s) {
  constexpr std::size_t inline_capacity = 15; // libstdc++ SSO
  return s.capacity() > inline_capacity ? s.capacity() + 1 : 0;
}

void append_escaped(std::string& out, std::string_view s) {
  out += '"';
  append_json_escaped(out, s);
  out += '"';
}

void append_int(std::string& out, int64_t x) {
  char buf[24];
  auto res = std::to_chars(buf, buf + sizeof(buf), x);
  out.append(buf, res.ptr);
}

void append_uint(std::string& out, uint64_t x) {
  char buf[24];
  auto res = std::to_chars(buf, buf + sizeof(buf), x);
  out.append(buf, res.ptr);
}

/// Shortest round-trip text; an integral value keeps a ".0" so that it reads
/// back as a double (DESIGN.md §2 keeps integers and reals apart).
void append_double(std::string& out, double x) {
  char buf[32];
  auto res = std::to_chars(buf, buf + sizeof(buf), x);
  std::string_view text(buf, static_cast<std::size_t>(res.ptr - buf));
  out += text;
  if (text.find_first_of(".e") == std::string_view::npos)
    out += ".0";
}

/// Stores `current + delta` in `sum` (a missing field counts as integer 0),
/// or says why it cannot: integer + integer stays an integer and must not
/// overflow int64; with a real on either side the sum is a finite real.
template <class Value>
std::optional<error_code> add_number(const Value* current,
                                     const field_value& delta, Value& sum) {
  if (current != nullptr && std::holds_alternative<std::string>(*current))
    return error_code::field_not_numeric;
  if (delta.type == field_value::kind::raw)
    return error_code::not_a_number; // the codec already rejects these
  auto* cur_int = current ? std::get_if<int64_t>(current) : nullptr;
  auto* cur_real = current ? std::get_if<double>(current) : nullptr;
  if (cur_real == nullptr && delta.type == field_value::kind::integer) {
    int64_t result = 0;
    if (__builtin_add_overflow(cur_int ? *cur_int : 0, delta.integer,
                               &result))
      return error_code::overflow;
    sum = result;
    return std::nullopt;
  }
  double base = cur_real  ? *cur_real
                : cur_int ? static_cast<double>(*cur_int)
                          : 0.0;
  double add = delta.type == field_value::kind::real
                 ? delta.real
                 : static_cast<double>(delta.integer);
  double result = base + add;
  if (!std::isfinite(result))
    return error_code::overflow;
  sum = result;
  return std::nullopt;
}

} // namespace

uint64_t shard_store::hash_key(std::string_view key) {
  return hash_bytes(key, map_seed);
}

shard_store::shard_store(uint32_t index, shard_limits limits)
  : index_(index), window_(limits.dedup_window) {
  // nop
}

apply_outcome shard_store::apply(std::vector<event>& events) {
  // Hashes are computed `lookahead` events early and their table slots
  // prefetched, so the cache misses of several events overlap.
  constexpr std::size_t lookahead = 4;
  struct hashes {
    fingerprint fp;
    uint64_t key = 0;
  };
  std::array<hashes, lookahead> ahead;
  bool dedup = window_.capacity() > 0;
  auto prepare = [&](std::size_t i) {
    auto& h = ahead[i % lookahead];
    const auto& ev = events[i];
    h.key = hash_key(ev.key);
    prefetch(h.key);
    if (dedup) {
      h.fp = make_fingerprint(ev.key, ev.id);
      window_.prefetch(h.fp);
    }
  };
  for (std::size_t i = 0; i < std::min(lookahead, events.size()); ++i)
    prepare(i);
  apply_outcome out;
  for (std::size_t i = 0; i < events.size(); ++i) {
    auto h = ahead[i % lookahead];
    if (i + lookahead < events.size())
      prepare(i + lookahead);
    auto& ev = events[i];
    if (dedup && window_.contains(h.fp)) {
      ++out.duplicates;
      continue;
    }
    auto result = apply_op(ev, h.key);
    if (!result.ok) {
      // A rejected pair is not remembered: a corrected retry must apply.
      ++rejected_[static_cast<std::size_t>(result.code)];
      out.rejected.push_back(
        rejection{ev.seq, ev.id, result.code, std::move(result.detail)});
      continue;
    }
    if (dedup)
      window_.insert(h.fp);
    ++out.applied;
  }
  events_applied_ += out.applied;
  duplicates_ += out.duplicates;
  return out;
}

std::optional<std::string> shard_store::get(std::string_view key) const {
  const record* found = find(key, hash_key(key));
  if (found == nullptr)
    return std::nullopt;
  const auto& rec = *found;
  std::string out;
  out.reserve(128 + key.size() + rec.fields.size() * 32);
  out += "{\"key\":";
  append_escaped(out, key);
  out += ",\"fields\":{";
  for (std::size_t i = 0; i < rec.fields.size(); ++i) {
    const auto& f = rec.fields[i];
    if (i > 0)
      out += ',';
    append_escaped(out, f.name);
    out += ':';
    if (auto* n = std::get_if<int64_t>(&f.val))
      append_int(out, *n);
    else if (auto* d = std::get_if<double>(&f.val))
      append_double(out, *d);
    else
      out += std::get<std::string>(f.val); // already compact JSON
  }
  out += "},\"events\":";
  append_uint(out, rec.events);
  out += ",\"first_ts\":";
  append_int(out, rec.first_ts);
  out += ",\"last_ts\":";
  append_int(out, rec.last_ts);
  out += ",\"version\":";
  append_uint(out, rec.version);
  out += '}';
  return out;
}

bool shard_store::erase(std::string_view key) {
  record* rec = find(key, hash_key(key));
  if (rec == nullptr)
    return false;
  erase_record(*rec);
  return true;
}

shard_store_stats shard_store::stats() const {
  shard_store_stats result;
  result.shard = index_;
  result.keys = records_.size();
  result.bytes = record_bytes_ + records_.capacity() * sizeof(record)
                 + slots_.capacity() * sizeof(uint64_t) + window_.bytes();
  result.events_applied = events_applied_;
  result.duplicates = duplicates_;
  result.rejected = rejected_;
  result.dedup_ids = window_.size();
  result.dedup_capacity = window_.capacity();
  return result;
}

shard_snapshot shard_store::snapshot(uint64_t seq) const {
  shard_snapshot snap;
  snap.shard = index_;
  snap.seq = seq;
  snap.records.reserve(records_.size());
  for (const auto& rec : records_) {
    auto& out = snap.records.emplace_back();
    out.key = rec.key;
    out.events = rec.events;
    out.version = rec.version;
    out.first_ts = rec.first_ts;
    out.last_ts = rec.last_ts;
    out.fields.reserve(rec.fields.size());
    for (const auto& f : rec.fields) {
      auto& field = out.fields.emplace_back();
      field.name = f.name;
      if (auto* i = std::get_if<int64_t>(&f.val)) {
        field.type = 0;
        field.integer = *i;
      } else if (auto* d = std::get_if<double>(&f.val)) {
        field.type = 1;
        field.real = *d;
      } else {
        field.type = 2;
        field.raw = std::get<std::string>(f.val);
      }
    }
  }
  snap.dedup.reserve(window_.size() * 2);
  window_.for_each_oldest_first([&](const fingerprint& fp) {
    snap.dedup.push_back(fp.lo);
    snap.dedup.push_back(fp.hi);
  });
  snap.events_applied = events_applied_;
  snap.duplicates = duplicates_;
  snap.rejected = rejected_;
  return snap;
}

void shard_store::restore(const shard_snapshot& snap) {
  *this = shard_store{index_, shard_limits{window_.capacity()}};
  for (const auto& in : snap.records) {
    auto& rec = create(in.key, hash_key(in.key), in.fields.size());
    rec.events = in.events;
    rec.version = in.version;
    rec.first_ts = in.first_ts;
    rec.last_ts = in.last_ts;
    for (const auto& f : in.fields) {
      value v;
      if (f.type == 0)
        v = f.integer;
      else if (f.type == 1)
        v = f.real;
      else
        v = f.raw;
      write_field(rec, f.name, std::move(v));
    }
  }
  for (std::size_t i = 0; i + 1 < snap.dedup.size(); i += 2)
    window_.insert(fingerprint{snap.dedup[i], snap.dedup[i + 1]});
  events_applied_ = snap.events_applied;
  duplicates_ = snap.duplicates;
  rejected_ = snap.rejected;
}

std::vector<std::pair<std::string, uint64_t>>
shard_store::hottest(std::size_t n) const {
  std::vector<const record*> top;
  auto hotter = [](const record* a, const record* b) {
    return a->events > b->events;
  };
  for (const auto& rec : records_) {
    if (top.size() < n) {
      top.push_back(&rec);
      std::push_heap(top.begin(), top.end(), hotter);
    } else if (n > 0 && rec.events > top.front()->events) {
      std::pop_heap(top.begin(), top.end(), hotter);
      top.back() = &rec;
      std::push_heap(top.begin(), top.end(), hotter);
    }
  }
  std::sort_heap(top.begin(), top.end(), hotter);
  std::vector<std::pair<std::string, uint64_t>> out;
  out.reserve(top.size());
  for (const auto* rec : top)
    out.emplace_back(rec->key, rec->events);
  return out;
}

shard_store::verdict shard_store::apply_op(event& ev, uint64_t hash) {
  switch (ev.op) {
    case op_code::set:
      return apply_set(ev, hash);
    case op_code::incr:
      return apply_incr(ev, hash);
    case op_code::del:
      return ev.has_data ? apply_del_fields(ev, hash)
                         : apply_del_record(ev, hash);
  }
  return {false, error_code::bad_op, "unknown op"};
}

shard_store::verdict shard_store::apply_set(event& ev, uint64_t hash) {
  auto& rec = find_or_create(ev.key, hash, ev.data.size());
  for (auto& f : ev.data) {
    switch (f.value.type) {
      case field_value::kind::integer:
        write_field(rec, f.name, f.value.integer);
        break;
      case field_value::kind::real:
        write_field(rec, f.name, f.value.real);
        break;
      case field_value::kind::raw:
        write_field(rec, f.name, std::move(f.value.raw));
        break;
    }
  }
  touch(rec, ev.ts);
  return {};
}

shard_store::verdict shard_store::apply_incr(event& ev, uint64_t hash) {
  record* existing = find(ev.key, hash);
  if (auto plan = plan_incr(existing, ev.data); !plan.ok)
    return plan;
  auto& rec = existing ? *existing : create(ev.key, hash, ev.data.size());
  for (std::size_t i = 0; i < ev.data.size(); ++i)
    write_field(rec, ev.data[i].name, std::move(incr_scratch_[i]));
  touch(rec, ev.ts);
  return {};
}

shard_store::verdict shard_store::plan_incr(const record* rec,
                                            const std::vector<field>& data) {
  incr_scratch_.clear();
  for (const auto& f : data) {
    const value* current = nullptr;
    if (rec != nullptr) {
      for (const auto& sf : rec->fields)
        if (sf.name == f.name) {
          current = &sf.val;
          break;
        }
    }
    value sum;
    if (auto code = add_number(current, f.value, sum)) {
      auto what = *code == error_code::overflow ? " overflows"
                  : *code == error_code::field_not_numeric
                    ? " holds a non-number"
                    : " is not a number";
      return {false, *code, "incr of field " + f.name + what};
    }
    incr_scratch_.push_back(std::move(sum));
  }
  return {};
}

shard_store::verdict shard_store::apply_del_fields(event& ev, uint64_t hash) {
  record* found = find(ev.key, hash);
  if (found == nullptr)
    return {}; // applied, but deleting fields never creates a record
  auto& rec = *found;
  for (const auto& f : ev.data) {
    for (auto pos = rec.fields.begin(); pos != rec.fields.end(); ++pos) {
      if (pos->name != f.name)
        continue;
      record_bytes_ -= heap_of(pos->name);
      if (auto* s = std::get_if<std::string>(&pos->val))
        record_bytes_ -= heap_of(*s);
      rec.fields.erase(pos); // keeps the insertion order of the others
      break;
    }
  }
  touch(rec, ev.ts);
  return {};
}

shard_store::verdict shard_store::apply_del_record(event& ev, uint64_t hash) {
  if (record* rec = find(ev.key, hash))
    erase_record(*rec);
  return {};
}

const shard_store::record* shard_store::find(std::string_view key,
                                             uint64_t hash) const {
  if (records_.empty())
    return nullptr;
  auto tag = static_cast<uint32_t>(hash);
  for (std::size_t i = tag & slot_mask_;; i = (i + 1) & slot_mask_) {
    uint64_t slot = slots_[i];
    if (slot == 0)
      return nullptr;
    if (static_cast<uint32_t>(slot >> 32) != tag)
      continue;
    const auto& rec = records_[static_cast<uint32_t>(slot) - 1];
    if (rec.key == key)
      return &rec;
  }
}

shard_store::record* shard_store::find(std::string_view key, uint64_t hash) {
  return const_cast<record*>(std::as_const(*this).find(key, hash));
}

shard_store::record& shard_store::create(std::string key, uint64_t hash,
                                         std::size_t field_hint) {
  if ((records_.size() + 1) * 10 > slots_.size() * 7)
    grow_slots();
  auto& rec = records_.emplace_back();
  rec.key = std::move(key);
  rec.fields.reserve(field_hint);
  auto tag = static_cast<uint32_t>(hash);
  std::size_t i = tag & slot_mask_;
  while (slots_[i] != 0)
    i = (i + 1) & slot_mask_;
  slots_[i] = (uint64_t{tag} << 32) | records_.size();
  record_bytes_ +=
    heap_of(rec.key) + rec.fields.capacity() * sizeof(stored_field);
  return rec;
}

void shard_store::prefetch(uint64_t hash) const {
  if (!slots_.empty())
    __builtin_prefetch(&slots_[static_cast<uint32_t>(hash) & slot_mask_]);
}

shard_store::record& shard_store::find_or_create(std::string_view key,
                                                 uint64_t hash,
                                                 std::size_t field_hint) {
  if (record* rec = find(key, hash))
    return *rec;
  return create(std::string(key), hash, field_hint);
}

void shard_store::touch(record& rec, int64_t ts) {
  if (rec.version == 0)
    rec.first_ts = ts; // created by this event
  rec.events += 1;
  rec.version += 1;
  rec.last_ts = ts;
}

void shard_store::write_field(record& rec, std::string_view name, value val) {
  auto value_heap = [](const value& v) {
    auto* s = std::get_if<std::string>(&v);
    return s ? heap_of(*s) : 0;
  };
  for (auto& f : rec.fields) {
    if (f.name != name)
      continue;
    record_bytes_ -= value_heap(f.val);
    f.val = std::move(val);
    record_bytes_ += value_heap(f.val);
    return;
  }
  auto old_capacity = rec.fields.capacity();
  rec.fields.push_back(stored_field{std::string(name), std::move(val)});
  const auto& added = rec.fields.back();
  record_bytes_ += (rec.fields.capacity() - old_capacity) * sizeof(stored_field)
                   + heap_of(added.name) + value_heap(added.val);
}

void shard_store::erase_record(record& rec) {
  uint64_t bytes =
    heap_of(rec.key) + rec.fields.capacity() * sizeof(stored_field);
  for (const auto& f : rec.fields) {
    bytes += heap_of(f.name);
    if (auto* s = std::get_if<std::string>(&f.val))
      bytes += heap_of(*s);
  }
  record_bytes_ -= bytes;
  auto index = static_cast<uint32_t>(&rec - records_.data());
  unlink_slot(slot_of(index));
  auto last = static_cast<uint32_t>(records_.size() - 1);
  if (index != last) {
    // Keep records dense: the last one moves into the hole.
    std::size_t moved = slot_of(last);
    slots_[moved] = (slots_[moved] & ~uint64_t{0xFFFFFFFF}) | (index + 1);
    rec = std::move(records_.back());
  }
  records_.pop_back();
}

std::size_t shard_store::slot_of(uint32_t index) const {
  auto tag = static_cast<uint32_t>(hash_key(records_[index].key));
  std::size_t i = tag & slot_mask_;
  while (static_cast<uint32_t>(slots_[i]) != index + 1)
    i = (i + 1) & slot_mask_;
  return i;
}

void shard_store::unlink_slot(std::size_t i) {
  // Backward shift (no tombstones): pull later entries of the probe run
  // into the hole unless that would move one before its home slot.
  for (std::size_t j = (i + 1) & slot_mask_; slots_[j] != 0;
       j = (j + 1) & slot_mask_) {
    std::size_t home = static_cast<uint32_t>(slots_[j] >> 32) & slot_mask_;
    if (((j - home) & slot_mask_) >= ((j - i) & slot_mask_)) {
      slots_[i] = slots_[j];
      i = j;
    }
  }
  slots_[i] = 0;
}

void shard_store::grow_slots() {
  std::size_t n = std::max<std::size_t>(16, slots_.size());
  while ((records_.size() + 1) * 10 > n * 7)
    n *= 2;
  slots_.assign(n, 0);
  slot_mask_ = n - 1;
  for (std::size_t r = 0; r < records_.size(); ++r) {
    auto tag = static_cast<uint32_t>(hash_key(records_[r].key));
    std::size_t i = tag & slot_mask_;
    while (slots_[i] != 0)
      i = (i + 1) & slot_mask_;
    slots_[i] = (uint64_t{tag} << 32) | (r + 1);
  }
}

} // namespace eventide

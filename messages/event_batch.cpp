#include "messages/event_batch.hpp"

namespace eventide {

namespace {

bool within(std::size_t offset, std::size_t size, std::size_t limit) {
  return offset <= limit && size <= limit - offset;
}

} // namespace

void event_batch::append(const event_batch& from, std::size_t i,
                         span strings) {
  const auto& rec = from.events[i];
  // One copy moves all strings; offsets shift by `delta` (unsigned
  // arithmetic: a shift down wraps around to the right value).
  auto [begin, end] = strings;
  auto delta = static_cast<uint32_t>(text.size() - begin);
  text.append(from.text, begin, end - begin);
  auto& out = events.emplace_back(rec);
  out.id_offset += delta;
  out.key_offset += delta;
  out.first_field = static_cast<uint32_t>(fields.size());
  for (uint32_t f = 0; f < rec.field_count; ++f) {
    auto& field = fields.emplace_back(from.fields[rec.first_field + f]);
    field.name_offset += delta;
  }
}

bool event_batch::well_formed() const {
  for (const auto& rec : events) {
    if (!within(rec.id_offset, rec.id_size, text.size())
        || !within(rec.key_offset, rec.key_size, text.size())
        || !within(rec.first_field, rec.field_count, fields.size()))
      return false;
  }
  for (const auto& f : fields) {
    if (!within(f.name_offset, std::size_t{f.name_size} + f.raw_size,
                text.size()))
      return false;
  }
  return true;
}

} // namespace eventide

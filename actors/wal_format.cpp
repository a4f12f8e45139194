#include "actors/wal_format.hpp"

#include <algorithm>
#include <cstring>

#include <boost/crc.hpp>

namespace eventide {

namespace {

using crc32c_type
  = boost::crc_optimal<32, 0x1EDC6F41, 0xFFFFFFFF, 0xFFFFFFFF, true, true>;

void put_u32(std::string& out, uint32_t v) {
  char b[4];
  for (int i = 0; i < 4; ++i)
    b[i] = static_cast<char>((v >> (8 * i)) & 0xFF);
  out.append(b, 4);
}

uint32_t get_u32(const char* p) {
  uint32_t v = 0;
  for (int i = 0; i < 4; ++i)
    v |= static_cast<uint32_t>(static_cast<unsigned char>(p[i])) << (8 * i);
  return v;
}

bool all_zero(std::string_view s) {
  return std::all_of(s.begin(), s.end(), [](char c) { return c == 0; });
}

} // namespace

uint32_t crc32c(std::string_view data) {
  crc32c_type crc;
  crc.process_bytes(data.data(), data.size());
  return crc.checksum();
}

void append_record(std::string& out, std::string_view payload) {
  auto len = static_cast<uint32_t>(payload.size());
  put_u32(out, len);
  put_u32(out, ~len);
  put_u32(out, crc32c(payload));
  out.append(payload);
}

scan_result
scan_records(std::string_view data,
             const std::function<bool(std::string_view)>& on_record) {
  scan_result r;
  std::size_t pos = 0;
  auto stop = [&](scan_result::end how, std::string reason) {
    r.how = how;
    r.valid_bytes = pos;
    r.reason = std::move(reason);
    return r;
  };
  while (pos < data.size()) {
    auto rest = data.substr(pos);
    if (all_zero(rest))
      return stop(scan_result::end::torn_tail,
                  std::to_string(rest.size()) + " zero bytes at the end");
    if (rest.size() < record_header_bytes)
      return stop(scan_result::end::torn_tail,
                  "a partial record header of " + std::to_string(rest.size())
                    + " bytes");
    auto len = get_u32(rest.data());
    auto check = get_u32(rest.data() + 4);
    auto crc = get_u32(rest.data() + 8);
    if (len != ~check || len > max_record_bytes)
      return stop(scan_result::end::corrupt, "a damaged record header");
    if (rest.size() - record_header_bytes < len)
      return stop(scan_result::end::torn_tail,
                  "a record of " + std::to_string(len) + " bytes cut off after "
                    + std::to_string(rest.size() - record_header_bytes));
    auto payload = rest.substr(record_header_bytes, len);
    if (crc32c(payload) != crc) {
      bool last = rest.size() == record_header_bytes + len;
      return stop(last ? scan_result::end::torn_tail : scan_result::end::corrupt,
                  "a record that fails its CRC");
    }
    pos += record_header_bytes + len;
    ++r.records;
    if (!on_record(payload))
      break;
  }
  r.valid_bytes = pos;
  return r;
}

} // namespace eventide

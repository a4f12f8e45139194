#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

namespace eventide {

// The framing of eventide's write-ahead log and snapshot files. Every
// record is
//
//   u32 length | u32 ~length | u32 crc32c(payload) | payload
//
// little-endian. The complemented length tells a damaged header from a
// record cut short by a crash, so that a flipped bit in the middle of a
// file is reported instead of being mistaken for a torn tail (which would
// silently drop everything after it). Plain C++, no CAF.

/// CRC-32C (Castagnoli), as used by iSCSI, ext4 and LevelDB.
uint32_t crc32c(std::string_view data);

/// Bytes of a record header.
inline constexpr std::size_t record_header_bytes = 12;

/// Largest payload a record may carry (a batch is far smaller).
inline constexpr uint32_t max_record_bytes = 256u << 20;

/// Appends one framed record holding `payload` to `out`.
void append_record(std::string& out, std::string_view payload);

/// How a scan of a file ended.
struct scan_result {
  enum class end { clean, torn_tail, corrupt };
  end how = end::clean;
  uint64_t records = 0;
  /// Bytes of whole, valid records from the start: where a torn tail is
  /// cut off, or where the corruption was found.
  uint64_t valid_bytes = 0;
  std::string reason; // what was wrong, for torn_tail and corrupt
};

/// Walks the records of `data` in order and hands each payload to `on_record`
/// (a view into `data`). Stops at the end, at a torn tail (the last record
/// is incomplete, fails its CRC, or the file ends in zeros, as a crash can
/// leave it) or at corruption followed by more data; `on_record` returning
/// false stops the scan as well (reported as clean).
scan_result scan_records(std::string_view data,
                         const std::function<bool(std::string_view)>& on_record);

} // namespace eventide

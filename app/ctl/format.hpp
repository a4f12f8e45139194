#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace eventide::ctl {

/// Bytes in binary units: "0 B", "999 B", "1.5 KiB", "12 MiB".
std::string human_bytes(uint64_t bytes);

/// Busy time: "0 ms", "0.4 ms", "5.3 ms", "1.25 s", "73.4 s", "2h 03m".
std::string human_duration_ns(uint64_t ns);

/// A latency: "250 us", "2.5 ms", "1.20 s".
std::string human_micros(uint64_t us);

/// A per-second rate: "0/s", "12/s", "1.2k/s", "3.40M/s".
std::string human_rate(double per_second);

/// An uptime: "42s", "3m 07s", "5h 02m", "2d 04h".
std::string human_uptime(uint64_t seconds);

/// Milliseconds since the epoch as "2026-11-24 20:14:11.123 UTC".
std::string utc_time_ms(uint64_t ms);

/// Columns as wide as the display width of UTF-8 text (code points).
size_t display_width(std::string_view text);

/// A plain-text table: a header row, then rows, columns two spaces apart,
/// numbers right-aligned; no trailing spaces.
class table {
public:
  enum class align { left, right };
  struct column {
    std::string title;
    align alignment = align::left;
  };

  explicit table(std::vector<column> columns);

  /// Appends a row; missing cells are empty, extra cells are dropped.
  void add_row(std::vector<std::string> cells);

  size_t rows() const {
    return rows_.size();
  }

  std::string render() const;

private:
  std::string render_row(const std::vector<std::string>& cells,
                         const std::vector<size_t>& widths) const;

  std::vector<column> columns_;
  std::vector<std::vector<std::string>> rows_;
};

/// Key/value lines with the keys padded to one width ("name   shard-3").
std::string render_pairs(
  const std::vector<std::pair<std::string, std::string>>& pairs,
  std::string_view indent = "");

} // namespace eventide::ctl

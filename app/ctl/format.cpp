#include "app/ctl/format.hpp"

#include <cmath>
#include <cstdio>
#include <ctime>

namespace eventide::ctl {

namespace {

template <class... Args>
std::string printf_string(const char* fmt, Args... args) {
  char buf[64];
  std::snprintf(buf, sizeof buf, fmt, args...);
  return buf;
}

std::string pad(std::string_view text, size_t width, table::align a) {
  size_t w = display_width(text);
  std::string fill(width > w ? width - w : 0, ' ');
  return a == table::align::right ? fill + std::string{text}
                                  : std::string{text} + fill;
}

} // namespace

std::string human_bytes(uint64_t bytes) {
  static constexpr const char* units[] = {"B",   "KiB", "MiB", "GiB",
                                          "TiB", "PiB", "EiB"};
  if (bytes < 1024)
    return std::to_string(bytes) + " B";
  double v = static_cast<double>(bytes);
  size_t unit = 0;
  while (v >= 1024 && unit + 1 < std::size(units)) {
    v /= 1024;
    ++unit;
  }
  // Three significant digits at most, without rounding up to "1024 KiB".
  if (v < 10)
    return printf_string("%.1f %s", std::floor(v * 10) / 10, units[unit]);
  return printf_string("%.0f %s", std::floor(v), units[unit]);
}

std::string human_duration_ns(uint64_t ns) {
  if (ns == 0)
    return "0 ms";
  double ms = static_cast<double>(ns) / 1e6;
  if (ms < 1000)
    return printf_string(ms < 0.1 ? "%.2f ms" : "%.1f ms", ms);
  double s = ms / 1000;
  if (s < 10)
    return printf_string("%.2f s", s);
  if (s < 3600)
    return printf_string("%.1f s", s);
  auto whole = static_cast<uint64_t>(s);
  return printf_string("%lluh %02llum",
                       static_cast<unsigned long long>(whole / 3600),
                       static_cast<unsigned long long>(whole % 3600 / 60));
}

std::string human_micros(uint64_t us) {
  if (us < 1000)
    return std::to_string(us) + " us";
  if (us < 1'000'000)
    return printf_string("%.1f ms", static_cast<double>(us) / 1e3);
  return printf_string("%.2f s", static_cast<double>(us) / 1e6);
}

std::string human_rate(double per_second) {
  if (!(per_second > 0))
    return "0/s";
  if (per_second < 10)
    return printf_string("%.1f/s", per_second);
  if (per_second < 1000)
    return printf_string("%.0f/s", per_second);
  if (per_second < 1e6)
    return printf_string(per_second < 1e4 ? "%.2fk/s" : "%.1fk/s",
                         per_second / 1e3);
  return printf_string(per_second < 1e7 ? "%.2fM/s" : "%.1fM/s",
                       per_second / 1e6);
}

std::string human_uptime(uint64_t seconds) {
  auto u = [](uint64_t v) { return static_cast<unsigned long long>(v); };
  if (seconds < 60)
    return printf_string("%llus", u(seconds));
  if (seconds < 3600)
    return printf_string("%llum %02llus", u(seconds / 60), u(seconds % 60));
  if (seconds < 86400)
    return printf_string("%lluh %02llum", u(seconds / 3600),
                         u(seconds % 3600 / 60));
  return printf_string("%llud %02lluh", u(seconds / 86400),
                       u(seconds % 86400 / 3600));
}

std::string utc_time_ms(uint64_t ms) {
  auto secs = static_cast<std::time_t>(ms / 1000);
  std::tm tm{};
  if (gmtime_r(&secs, &tm) == nullptr)
    return std::to_string(ms);
  char buf[48];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02d %02d:%02d:%02d.%03u UTC",
                tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
                tm.tm_min, tm.tm_sec, static_cast<unsigned>(ms % 1000));
  return buf;
}

size_t display_width(std::string_view text) {
  size_t n = 0;
  for (unsigned char c : text)
    if ((c & 0xC0) != 0x80)
      ++n;
  return n;
}

table::table(std::vector<column> columns) : columns_(std::move(columns)) {
}

void table::add_row(std::vector<std::string> cells) {
  cells.resize(columns_.size());
  rows_.push_back(std::move(cells));
}

std::string table::render() const {
  std::vector<size_t> widths;
  for (const auto& c : columns_)
    widths.push_back(display_width(c.title));
  for (const auto& row : rows_)
    for (size_t i = 0; i < row.size(); ++i)
      widths[i] = std::max(widths[i], display_width(row[i]));
  std::vector<std::string> titles;
  for (const auto& c : columns_)
    titles.push_back(c.title);
  std::string out = render_row(titles, widths);
  for (const auto& row : rows_)
    out += render_row(row, widths);
  return out;
}

std::string table::render_row(const std::vector<std::string>& cells,
                              const std::vector<size_t>& widths) const {
  std::string line;
  for (size_t i = 0; i < cells.size(); ++i) {
    if (i > 0)
      line += "  ";
    line += pad(cells[i], widths[i], columns_[i].alignment);
  }
  while (!line.empty() && line.back() == ' ')
    line.pop_back();
  return line + '\n';
}

std::string render_pairs(
  const std::vector<std::pair<std::string, std::string>>& pairs,
  std::string_view indent) {
  size_t width = 0;
  for (const auto& [k, v] : pairs)
    width = std::max(width, display_width(k));
  std::string out;
  for (const auto& [k, v] : pairs) {
    out += indent;
    out += pad(k, width, table::align::left);
    out += "  " + v;
    while (!out.empty() && out.back() == ' ')
      out.pop_back();
    out += '\n';
  }
  return out;
}

} // namespace eventide::ctl

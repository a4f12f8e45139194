#include "actors/wal_log.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <system_error>
#include <utility>

#include "actors/wal_format.hpp"

namespace eventide {

namespace fs = std::filesystem;

namespace {

std::system_error io_error(const std::string& what) {
  return std::system_error{errno, std::generic_category(), what};
}

std::string wal_dir(const std::string& dir) {
  return dir + "/wal";
}

std::string segment_path(const std::string& dir, uint64_t number) {
  char name[40];
  std::snprintf(name, sizeof name, "wal-%016llu.log",
                static_cast<unsigned long long>(number));
  return wal_dir(dir) + "/" + name;
}

std::string snapshot_path(const std::string& dir, uint32_t shard) {
  char name[32];
  std::snprintf(name, sizeof name, "shard-%05u.snap", shard);
  return dir + "/snapshots/" + name;
}

void fsync_dir(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_DIRECTORY);
  if (fd < 0)
    throw io_error("open " + path);
  int rc = ::fsync(fd);
  ::close(fd);
  if (rc != 0)
    throw io_error("fsync " + path);
}

void write_all(int fd, std::string_view data, const std::string& path) {
  while (!data.empty()) {
    auto n = ::write(fd, data.data(), data.size());
    if (n < 0 && errno == EINTR)
      continue;
    if (n < 0)
      throw io_error("write " + path);
    data.remove_prefix(static_cast<std::size_t>(n));
  }
}

std::string read_file(const std::string& path) {
  std::ifstream in{path, std::ios::binary};
  if (!in)
    throw std::runtime_error("cannot read " + path);
  std::ostringstream out;
  out << in.rdbuf();
  return std::move(out).str();
}

void put_u32(std::string& out, uint32_t v) {
  for (int i = 0; i < 4; ++i)
    out += static_cast<char>((v >> (8 * i)) & 0xFF);
}

void put_u64(std::string& out, uint64_t v) {
  for (int i = 0; i < 8; ++i)
    out += static_cast<char>((v >> (8 * i)) & 0xFF);
}

uint64_t get_le(std::string_view s, std::size_t pos, int bytes) {
  uint64_t v = 0;
  for (int i = 0; i < bytes; ++i)
    v |= uint64_t{static_cast<unsigned char>(s[pos + i])} << (8 * i);
  return v;
}

constexpr std::size_t batch_header_bytes = 12; // u32 shard, u64 seq

} // namespace

void open_data_dir(const std::string& dir, uint32_t shards) {
  std::error_code ec;
  fs::create_directories(wal_dir(dir), ec);
  if (!ec)
    fs::create_directories(dir + "/snapshots", ec);
  if (ec)
    throw std::runtime_error("storage.data-dir " + dir
                             + ": cannot create it: " + ec.message());
  auto meta = dir + "/META";
  if (!fs::exists(meta)) {
    write_file_atomically(meta, "eventide data dir\nformat "
                                  + std::to_string(data_format_version)
                                  + "\nshards " + std::to_string(shards)
                                  + "\n");
    return;
  }
  std::istringstream in{read_file(meta)};
  std::string line;
  uint64_t format = 0;
  uint64_t stored_shards = 0;
  while (std::getline(in, line)) {
    if (line.rfind("format ", 0) == 0)
      format = std::stoull(line.substr(7));
    else if (line.rfind("shards ", 0) == 0)
      stored_shards = std::stoull(line.substr(7));
  }
  if (format != data_format_version)
    throw std::runtime_error(
      "storage.data-dir " + dir + " holds data format "
      + std::to_string(format) + "; this eventide reads format "
      + std::to_string(data_format_version)
      + " only. Use a matching version or another data dir");
  if (stored_shards != shards)
    throw std::runtime_error(
      "storage.data-dir " + dir + " was written with engine.shards="
      + std::to_string(stored_shards) + ", not "
      + std::to_string(shards)
      + ": keys would land on other shards. Start with engine.shards="
      + std::to_string(stored_shards) + " or use another data dir");
}

wal_recovery
recover_wal(const std::string& dir, uint32_t shards,
            const std::vector<uint64_t>& from_seq,
            const std::function<void(uint32_t, uint64_t, std::string_view)>&
              on_batch) {
  wal_recovery out;
  out.last_seq = from_seq;
  out.last_seq.resize(shards, 0);
  std::vector<uint64_t> numbers;
  for (const auto& entry : fs::directory_iterator(wal_dir(dir))) {
    auto name = entry.path().filename().string();
    if (name.size() == 24 && name.rfind("wal-", 0) == 0
        && name.substr(20) == ".log")
      numbers.push_back(std::stoull(name.substr(4, 16)));
  }
  std::sort(numbers.begin(), numbers.end());
  for (std::size_t i = 0; i < numbers.size(); ++i) {
    auto path = segment_path(dir, numbers[i]);
    auto data = read_file(path);
    wal_segment seg;
    seg.number = numbers[i];
    seg.max_seq.assign(shards, 0);
    std::string bad;
    auto scan = scan_records(data, [&](std::string_view rec) {
      if (rec.size() < batch_header_bytes) {
        bad = "a record too short for a batch";
        return false;
      }
      auto shard = static_cast<uint32_t>(get_le(rec, 0, 4));
      auto seq = get_le(rec, 4, 8);
      if (shard >= shards) {
        bad = "a batch for shard " + std::to_string(shard);
        return false;
      }
      ++out.records;
      seg.max_seq[shard] = std::max(seg.max_seq[shard], seq);
      if (seq <= out.last_seq[shard])
        return true; // in the snapshot already, or written twice
      out.last_seq[shard] = seq;
      ++out.replayed;
      on_batch(shard, seq, rec.substr(batch_header_bytes));
      return true;
    });
    if (!bad.empty())
      throw std::runtime_error(path + ": " + bad + " before offset "
                               + std::to_string(scan.valid_bytes)
                               + "; the data dir is damaged");
    // A torn tail is cut off in any segment: the writer leaves an earlier
    // segment torn only when a write failed, and then the batch was never
    // acknowledged and went again into a newer segment.
    if (scan.how == scan_result::end::corrupt)
      throw std::runtime_error(
        path + ": " + scan.reason + " at offset "
        + std::to_string(scan.valid_bytes) + " of " + std::to_string(data.size())
        + " bytes, with data after it; refusing to start rather than drop "
          "it. Restore the data dir from a backup, or move this file away "
          "to accept losing what follows");
    if (scan.how == scan_result::end::torn_tail) {
      out.truncated_bytes += data.size() - scan.valid_bytes;
      if (!out.truncated_file.empty())
        out.truncated_file += ", ";
      out.truncated_file += path;
      out.truncated_reason = scan.reason;
      if (::truncate(path.c_str(), static_cast<off_t>(scan.valid_bytes)) != 0)
        throw io_error("truncate " + path);
    }
    seg.bytes = scan.valid_bytes;
    out.segments.push_back(std::move(seg));
  }
  return out;
}

wal_log::wal_log(std::string dir, uint32_t shards, uint64_t segment_bytes,
                 std::vector<wal_segment> existing)
  : dir_(std::move(dir)), shards_(shards), segment_bytes_(segment_bytes),
    segments_(std::move(existing)), covered_(shards, 0),
    pending_max_(shards, 0) {
  // Recovery's segments stay until snapshots cover them; writing always
  // starts a fresh segment after them.
}

wal_log::~wal_log() {
  close_current();
}

void wal_log::add(uint32_t shard, uint64_t seq, std::string_view batch) {
  std::string rec;
  rec.reserve(batch_header_bytes + batch.size());
  put_u32(rec, shard);
  put_u64(rec, seq);
  rec.append(batch);
  append_record(buffer_, rec);
  pending_max_[shard] = std::max(pending_max_[shard], seq);
}

void wal_log::open_next() {
  uint64_t number = segments_.empty() ? 1 : segments_.back().number + 1;
  auto path = segment_path(dir_, number);
  fd_ = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_APPEND, 0644);
  if (fd_ < 0)
    throw io_error("create " + path);
  wal_segment seg;
  seg.number = number;
  seg.max_seq.assign(shards_, 0);
  segments_.push_back(std::move(seg));
  try {
    fsync_dir(wal_dir(dir_));
  } catch (...) {
    close_current();
    throw;
  }
}

void wal_log::close_current() {
  if (fd_ >= 0)
    ::close(fd_);
  fd_ = -1;
}

void wal_log::flush(bool sync) {
  if (buffer_.empty())
    return;
  try {
    if (fd_ < 0 || segments_.back().bytes >= segment_bytes_) {
      close_current();
      open_next();
    }
    auto& seg = segments_.back();
    auto path = segment_path(dir_, seg.number);
    write_all(fd_, buffer_, path);
    if (sync && ::fdatasync(fd_) != 0)
      throw io_error("fdatasync " + path);
    seg.bytes += buffer_.size();
    written_ += buffer_.size();
    for (uint32_t s = 0; s < shards_; ++s)
      seg.max_seq[s] = std::max(seg.max_seq[s], pending_max_[s]);
  } catch (...) {
    // Cut what a failed write left half-written, so the segment ends on a
    // whole record (recovery would cut it anyway), and start a fresh
    // segment next time.
    if (fd_ >= 0 && ::ftruncate(fd_, static_cast<off_t>(segments_.back().bytes)) != 0) {
      // Best effort: recovery cuts the torn tail itself.
    }
    close_current();
    buffer_.clear();
    std::fill(pending_max_.begin(), pending_max_.end(), 0);
    throw;
  }
  buffer_.clear();
  std::fill(pending_max_.begin(), pending_max_.end(), 0);
}

void wal_log::covered(uint32_t shard, uint64_t seq) {
  covered_[shard] = std::max(covered_[shard], seq);
  auto open = fd_ >= 0 ? 1u : 0u;
  while (segments_.size() > open) {
    auto& seg = segments_.front();
    bool all = true;
    for (uint32_t s = 0; s < shards_ && all; ++s)
      all = seg.max_seq[s] <= covered_[s];
    if (!all)
      return;
    std::error_code ec;
    fs::remove(segment_path(dir_, seg.number), ec);
    segments_.erase(segments_.begin());
  }
}

uint64_t wal_log::take_written() {
  return std::exchange(written_, 0);
}

void write_file_atomically(const std::string& path, std::string_view bytes) {
  auto tmp = path + ".tmp";
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0)
    throw io_error("create " + tmp);
  try {
    write_all(fd, bytes, tmp);
    if (::fdatasync(fd) != 0)
      throw io_error("fdatasync " + tmp);
  } catch (...) {
    ::close(fd);
    throw;
  }
  ::close(fd);
  if (::rename(tmp.c_str(), path.c_str()) != 0)
    throw io_error("rename " + tmp);
  auto slash = path.rfind('/');
  fsync_dir(slash == std::string::npos ? std::string{"."}
                                       : path.substr(0, slash));
}

void write_snapshot_file(const std::string& dir, uint32_t shard,
                         std::string_view bytes) {
  std::string framed;
  framed.reserve(bytes.size() + record_header_bytes);
  append_record(framed, bytes);
  write_file_atomically(snapshot_path(dir, shard), framed);
}

std::string read_snapshot_file(const std::string& dir, uint32_t shard) {
  auto path = snapshot_path(dir, shard);
  if (!fs::exists(path))
    return {};
  auto data = read_file(path);
  std::string payload;
  auto scan = scan_records(data, [&](std::string_view rec) {
    payload.assign(rec);
    return true;
  });
  if (scan.how != scan_result::end::clean || scan.records != 1)
    throw std::runtime_error(path + ": damaged snapshot (" + scan.reason
                             + " at offset "
                             + std::to_string(scan.valid_bytes)
                             + "); restore the data dir from a backup");
  return payload;
}

} // namespace eventide

#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

namespace eventide {

// The files of a data dir (storage.data-dir):
//
//   META                       format version and shard count
//   wal/wal-<n>.log            the write-ahead log, in segments numbered n
//   snapshots/shard-<s>.snap   the newest snapshot of shard s
//
// Every WAL record (framed by wal_format) holds one applied batch:
// u32 shard | u64 shard sequence number | the batch as the shard encoded it.
// Plain C++ (POSIX files), no CAF.

/// Format version written to META; a data dir with another is refused.
inline constexpr uint32_t data_format_version = 1;

/// What is known about one WAL segment.
struct wal_segment {
  uint64_t number = 0;
  uint64_t bytes = 0;
  std::vector<uint64_t> max_seq; // per shard: newest batch in this segment
};

/// Creates the data dir or checks its META against `shards`; throws
/// std::runtime_error with a message for the operator when it does not fit.
void open_data_dir(const std::string& dir, uint32_t shards);

/// What recovery found in the WAL.
struct wal_recovery {
  std::vector<wal_segment> segments; // in order
  std::vector<uint64_t> last_seq;    // per shard: newest batch replayed
  uint64_t records = 0;              // records read
  uint64_t replayed = 0;             // batches handed to on_batch
  uint64_t truncated_bytes = 0;      // cut from a torn tail
  std::string truncated_file;
  std::string truncated_reason;
};

/// Reads every segment in order and calls `on_batch` for each batch newer
/// than `from_seq[shard]` (the snapshot's), in log order; a batch seen twice
/// (re-written after an I/O error) is replayed once. A torn tail (a record
/// cut short, or failing its CRC, at the end of a segment) is truncated at
/// the last whole record; damage with data after it throws
/// std::runtime_error naming the file and the offset.
wal_recovery
recover_wal(const std::string& dir, uint32_t shards,
            const std::vector<uint64_t>& from_seq,
            const std::function<void(uint32_t, uint64_t, std::string_view)>&
              on_batch);

/// Appends batches to the newest segment and rolls over to a new one at
/// `segment_bytes`. Not thread-safe: the storage actor owns it.
class wal_log {
public:
  wal_log(std::string dir, uint32_t shards, uint64_t segment_bytes,
          std::vector<wal_segment> existing);
  ~wal_log();
  wal_log(const wal_log&) = delete;
  wal_log& operator=(const wal_log&) = delete;

  /// Queues one batch; nothing is written until `flush`.
  void add(uint32_t shard, uint64_t seq, std::string_view batch);

  /// Writes what was queued and, with `sync`, fsyncs it. Throws
  /// std::system_error on failure; the segment is then abandoned and the
  /// next flush starts a new one (a failed fsync leaves a file's state
  /// unknown), and the queued batches are dropped: callers re-send them.
  void flush(bool sync);

  /// True when batches are queued.
  bool pending() const {
    return !buffer_.empty();
  }

  /// A snapshot of `shard` now covers every batch up to `seq`: deletes the
  /// segments (but the open one) whose batches are all covered.
  void covered(uint32_t shard, uint64_t seq);

  /// Bytes written since the last call (to pace snapshots).
  uint64_t take_written();

  /// Segments on disk, the open one included.
  std::size_t segment_count() const {
    return segments_.size();
  }

private:
  void open_next();
  void close_current();

  std::string dir_;
  uint32_t shards_;
  uint64_t segment_bytes_;
  std::vector<wal_segment> segments_; // the last is the open one when fd_ >= 0
  std::vector<uint64_t> covered_;     // per shard
  std::vector<uint64_t> pending_max_; // per shard, for what is queued
  std::string buffer_;
  int fd_ = -1;
  uint64_t written_ = 0;
};

/// Replaces the file at `path` with `bytes` atomically: a temporary file
/// beside it, fdatasync, rename, fsync of the directory. Throws
/// std::system_error.
void write_file_atomically(const std::string& path, std::string_view bytes);

/// Writes the snapshot file of `shard` atomically (temporary file, fsync,
/// rename, fsync of the directory). Throws std::system_error.
void write_snapshot_file(const std::string& dir, uint32_t shard,
                         std::string_view bytes);

/// The snapshot payload of `shard`, or an empty string when there is none.
/// Throws std::runtime_error when the file is damaged.
std::string read_snapshot_file(const std::string& dir, uint32_t shard);

} // namespace eventide

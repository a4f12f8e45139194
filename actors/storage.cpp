#include "actors/storage.hpp"

#include <memory>

#include <boost/json.hpp>
#include <caf/all.hpp>
#include <spdlog/spdlog.h>

#include "actors/actor_meter.hpp"
#include "actors/mailbox_depth.hpp"
#include "messages/cluster.hpp"
#include "messages/introspection.hpp"
#include "messages/messages.hpp"
#include "messages/storage.hpp"

namespace eventide {

namespace {

struct waiting_append {
  caf::response_promise promise;
  uint32_t shard = 0;
  uint64_t seq = 0;
};

struct storage_state {
  static inline const char* name = "storage";
  storage_options options;
  std::unique_ptr<wal_log> log;
  std::vector<uint64_t> expected; // per shard: the next seq accepted
  std::vector<waiting_append> waiting; // group commit in progress
  bool flush_scheduled = false;
  uint64_t since_snapshot = 0;
  std::vector<caf::actor> shards;
  uint64_t appended = 0;
  uint64_t fsyncs = 0;
  uint64_t snapshots = 0;
  uint64_t failures = 0;
  bool failing = false; // the last flush failed
  actor_meter meter;
};

using storage_actor = caf::stateful_actor<storage_state>*;

caf::error write_failed(const std::exception& e) {
  return caf::make_error(caf::sec::runtime_error,
                         std::string{"storage write failed: "} + e.what());
}

void note_failure(storage_actor self, const std::exception& e) {
  auto& st = self->state;
  ++st.failures;
  st.meter.note_error(error_code::unavailable, e.what());
  if (!st.failing)
    spdlog::error("storage: {}; shards stop acknowledging until writes "
                  "succeed again",
                  e.what());
  st.failing = true;
}

void note_success(storage_actor self) {
  auto& st = self->state;
  if (st.failing)
    spdlog::info("storage: writes succeed again");
  st.failing = false;
}

/// Asks every shard for a snapshot once enough log was written.
void maybe_snapshot(storage_actor self) {
  auto& st = self->state;
  st.since_snapshot += st.log->take_written();
  if (st.since_snapshot < st.options.snapshot_bytes)
    return;
  st.since_snapshot = 0;
  for (auto& shard : st.shards)
    self->send(shard, snapshot_atom::value);
}

/// Writes what is queued; `sync` fsyncs it. Answers every waiting append.
void flush(storage_actor self, bool sync) {
  auto& st = self->state;
  auto waiting = std::move(st.waiting);
  st.waiting.clear();
  try {
    st.log->flush(sync);
    if (sync)
      ++st.fsyncs;
  } catch (const std::exception& e) {
    note_failure(self, e);
    // The batches are gone from the log: each shard must re-send from its
    // oldest failed one.
    for (auto& w : waiting) {
      st.expected[w.shard] = std::min(st.expected[w.shard], w.seq);
      w.promise.deliver(write_failed(e));
    }
    return;
  }
  note_success(self);
  for (auto& w : waiting)
    w.promise.deliver(w.seq);
  maybe_snapshot(self);
}

caf::result<uint64_t> on_append(storage_actor self, uint32_t shard,
                                uint64_t seq, const std::string& batch) {
  auto& st = self->state;
  if (shard >= st.expected.size())
    return caf::make_error(caf::sec::invalid_argument, "no such shard");
  if (seq != st.expected[shard])
    return caf::make_error(caf::sec::invalid_argument,
                           "storage expects batch "
                             + std::to_string(st.expected[shard])
                             + " of shard " + std::to_string(shard)
                             + " next, got " + std::to_string(seq));
  st.log->add(shard, seq, batch);
  st.expected[shard] = seq + 1;
  ++st.appended;
  auto promise = self->make_response_promise();
  st.waiting.push_back({promise, shard, seq});
  switch (st.options.policy) {
    case fsync_policy::none:
      flush(self, false);
      break;
    case fsync_policy::always:
      flush(self, true);
      break;
    case fsync_policy::batch:
      if (!st.flush_scheduled) {
        st.flush_scheduled = true;
        self->delayed_send(self, st.options.interval, flush_atom::value);
      }
      break;
  }
  return caf::result<uint64_t>{caf::delegated<uint64_t>{}};
}

void on_snapshot(storage_actor self, uint32_t shard, uint64_t seq,
                 const std::string& bytes) {
  auto& st = self->state;
  try {
    write_snapshot_file(st.options.dir, shard, bytes);
    ++st.snapshots;
    st.log->covered(shard, seq);
  } catch (const std::exception& e) {
    // The log still holds everything: nothing is lost, the next round
    // tries again.
    note_failure(self, e);
  }
}

actor_info introspect(storage_actor self, bool deep) {
  auto& st = self->state;
  actor_info info;
  info.id = self->id();
  info.name = "storage";
  info.kind = "storage";
  st.meter.fill(info, mailbox_depth(*self));
  info.applied = st.appended;
  if (deep)
    info.detail = boost::json::serialize(boost::json::object{
      {"data_dir", st.options.dir},
      {"fsyncs", st.fsyncs},
      {"snapshots", st.snapshots},
      {"failures", st.failures},
      {"failing", st.failing},
      {"segments", st.log->segment_count()},
    });
  return info;
}

caf::behavior storage_impl(storage_actor self, storage_options options,
                           std::vector<wal_segment> segments,
                           std::vector<uint64_t> next_seq) {
  auto& st = self->state;
  st.options = options;
  st.log = std::make_unique<wal_log>(options.dir, options.shards,
                                     options.segment_bytes,
                                     std::move(segments));
  st.expected = std::move(next_seq);
  self->set_exit_handler([self](const caf::exit_msg& msg) {
    flush(self, true); // what is queued was never acknowledged; still keep it
    self->quit(msg.reason);
  });
  return {
    [=](append_atom, uint32_t shard, uint64_t seq, const std::string& batch)
      -> caf::result<uint64_t> {
      return self->state.meter.measure(
        [&] { return on_append(self, shard, seq, batch); });
    },
    [=](flush_atom) {
      self->state.meter.measure([&] {
        self->state.flush_scheduled = false;
        flush(self, true);
      });
    },
    [=](snapshot_atom, uint32_t shard, uint64_t seq,
        const std::string& bytes) {
      self->state.meter.measure([&] { on_snapshot(self, shard, seq, bytes); });
    },
    [=](handoff_atom, uint32_t shard, uint64_t seq,
        const std::string& bytes) -> caf::result<bool> {
      // A shard took over state from another node: the snapshot must be
      // durable before the shard acknowledges anything on top of it.
      return self->state.meter.measure([&]() -> caf::result<bool> {
        auto& st = self->state;
        try {
          write_snapshot_file(st.options.dir, shard, bytes);
          ++st.snapshots;
          st.log->covered(shard, seq);
          return true;
        } catch (const std::exception& e) {
          note_failure(self, e);
          return write_failed(e);
        }
      });
    },
    [=](join_atom, std::vector<caf::actor>& shards) {
      self->state.shards = std::move(shards);
    },
    [=](introspect_atom, bool deep) -> actor_info {
      return introspect(self, deep);
    },
  };
}

} // namespace

caf::actor spawn_storage(caf::actor_system& sys, storage_options options,
                         std::vector<wal_segment> segments,
                         std::vector<uint64_t> next_seq) {
  return sys.spawn<caf::detached>(storage_impl, std::move(options),
                                  std::move(segments), std::move(next_seq));
}

} // namespace eventide

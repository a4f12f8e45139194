#include "actors/shard.hpp"

#include <algorithm>
#include <deque>
#include <map>
#include <variant>

#include <boost/json.hpp>
#include <caf/all.hpp>
#include <spdlog/spdlog.h>

#include "actors/actor_meter.hpp"
#include "actors/mailbox_depth.hpp"
#include "messages/cluster.hpp"
#include "messages/introspection.hpp"
#include "messages/messages.hpp"
#include "messages/serialization.hpp"
#include "messages/storage.hpp"

namespace eventide {

namespace {

constexpr std::size_t hot_key_count = 10;

/// One live tap on this shard: a sink actor, an optional key filter and a
/// token bucket so that a tap can never send more than `rate` records/s.
struct tap_sub {
  caf::actor sink;
  std::string key; // empty: every key of the shard
  double rate = 100;
  double tokens = 0;
  std::chrono::steady_clock::time_point refilled;
  uint64_t dropped = 0; // sampled away since the last note
  std::chrono::steady_clock::time_point last_note{};

  bool take(std::chrono::steady_clock::time_point now) {
    std::chrono::duration<double> dt = now - refilled;
    refilled = now;
    tokens = std::min(rate, tokens + dt.count() * rate);
    if (tokens < 1) {
      ++dropped;
      return false;
    }
    tokens -= 1;
    return true;
  }
};

struct shard_state {
  static inline const char* name = "shard";
  uint32_t index = 0;
  shard_store store;
  shard_options options;
  actor_meter meter;
  std::vector<tap_sub> taps; // empty almost always: costs one branch
  bool note_scheduled = false; // a tick will report dropped tap records
  uint64_t slow_batches = 0; // since the last slow-batch log line
  std::chrono::steady_clock::time_point slow_logged{};
  // durability
  uint64_t next_seq = 1; // of the next batch to persist
  bool failing = false;  // storage refused a batch: answer unavailable
  std::string failing_detail;
  std::map<uint64_t, std::string> unwritten; // seq -> batch bytes
  bool retry_scheduled = false;
  // cluster (messages/cluster.hpp): what the node actor says this shard
  // does; standalone it always serves.
  shard_role role;
  caf::actor node;
  /// While awaiting a handoff: requests kept, in arrival order, and
  /// answered once the state is here (or forwarded if the role changes).
  struct kept {
    std::variant<event_batch, std::pair<bool, std::string>> what; // batch, or (erase?, key)
    caf::response_promise rp;
    std::chrono::steady_clock::time_point since;
  };
  std::deque<kept> stash;
  bool stash_tick = false;
  bool handing_off = false;
};

using shard_actor = caf::stateful_actor<shard_state>*;

int64_t wall_ms() {
  using namespace std::chrono;
  return duration_cast<milliseconds>(system_clock::now().time_since_epoch())
    .count();
}

constexpr auto drop_note_interval = std::chrono::seconds(1);

/// Tells each tap how many records its rate limit dropped: at most one note
/// per tap per second; what is left waits for a tick (`due`).
void send_drop_notes(shard_actor self, bool due) {
  auto& st = self->state;
  auto now = std::chrono::steady_clock::now();
  bool pending = false;
  for (auto& tap : st.taps) {
    if (tap.dropped == 0)
      continue;
    if (!due && now - tap.last_note < drop_note_interval) {
      pending = true;
      continue;
    }
    tap_record note;
    note.t_ms = wall_ms();
    note.shard = st.index;
    note.dropped = std::exchange(tap.dropped, 0);
    tap.last_note = now;
    self->send(tap.sink, tap_atom::value, note);
  }
  if (pending && !st.note_scheduled) {
    st.note_scheduled = true;
    self->delayed_send(self, drop_note_interval, tick_atom::value);
  }
}

/// The bytes of `batch.text` that event `i`'s strings occupy (the decoder
/// writes them together).
event_batch::span strings_of(const event_batch& batch, std::size_t i) {
  const auto& rec = batch.events[i];
  std::size_t lo = std::min(rec.id_offset, rec.key_offset);
  std::size_t hi = std::max(std::size_t{rec.id_offset} + rec.id_size,
                            std::size_t{rec.key_offset} + rec.key_size);
  for (uint32_t f = 0; f < rec.field_count; ++f) {
    const auto& field = batch.fields[rec.first_field + f];
    lo = std::min<std::size_t>(lo, field.name_offset);
    hi = std::max<std::size_t>(hi, std::size_t{field.name_offset}
                                     + field.name_size + field.raw_size);
  }
  return {lo, hi};
}

/// Applies a batch while someone taps this shard: event by event, so that
/// every event's outcome is known and can be shown.
apply_outcome apply_tapped(shard_actor self, const event_batch& batch) {
  auto& st = self->state;
  apply_outcome total;
  event_batch one;
  one.shard = batch.shard;
  auto now = std::chrono::steady_clock::now();
  auto t_ms = wall_ms();
  for (std::size_t i = 0; i < batch.size(); ++i) {
    one.clear();
    one.append(batch, i, strings_of(batch, i));
    auto out = st.store.apply(one);
    tap_record rec;
    if (out.applied > 0) {
      rec.result = tap_record::outcome::applied;
    } else if (out.duplicates > 0) {
      rec.result = tap_record::outcome::duplicate;
    } else {
      rec.result = tap_record::outcome::rejected;
      rec.error = out.rejected.front().code;
    }
    total.applied += out.applied;
    total.duplicates += out.duplicates;
    std::move(out.rejected.begin(), out.rejected.end(),
              std::back_inserter(total.rejected));
    auto ev = batch[i];
    for (auto& tap : st.taps) {
      if (!tap.key.empty() && tap.key != ev.key())
        continue;
      if (!tap.take(now))
        continue;
      rec.t_ms = t_ms;
      rec.shard = st.index;
      rec.seq = ev.seq();
      rec.id = std::string{ev.id()};
      rec.key = std::string{ev.key()};
      rec.op = static_cast<uint8_t>(ev.op());
      self->send(tap.sink, tap_atom::value, rec);
    }
  }
  send_drop_notes(self, false);
  return total;
}

void note_slow_batch(shard_state& st, std::size_t events,
                     caf::timespan took) {
  ++st.slow_batches;
  auto now = std::chrono::steady_clock::now();
  if (now - st.slow_logged < st.options.slow_log_interval)
    return;
  using ms = std::chrono::duration<double, std::milli>;
  spdlog::warn("shard {} spent {:.0f} ms on one batch of {} events "
               "(threshold {:.0f} ms; {} slow batches since the last warning)",
               st.index, ms(took).count(), events,
               ms(st.options.slow_batch).count(), st.slow_batches);
  st.slow_batches = 0;
  st.slow_logged = now;
}

/// Every event of `events` rejected with `code` (nothing was applied, or
/// what was applied is not durable and must not be acknowledged).
apply_outcome all_rejected(const event_batch& batch, error_code code,
                           const std::string& detail) {
  apply_outcome out;
  out.rejected.reserve(batch.size());
  for (std::size_t i = 0; i < batch.size(); ++i) {
    auto ev = batch[i];
    out.rejected.push_back({ev.seq(), std::string{ev.id()}, code, detail});
  }
  return out;
}

apply_outcome apply_in_memory(shard_actor self, const event_batch& batch);

void schedule_retry(shard_actor self);

/// Storage refused batch `seq`: keep it for a re-send and stop
/// acknowledging until every kept batch is written.
void storage_failed(shard_actor self, uint64_t seq, std::string bytes,
                    const std::string& why) {
  auto& st = self->state;
  if (!st.failing)
    st.meter.note_error(error_code::unavailable, why);
  st.failing = true;
  st.failing_detail = "storage is failing: " + why;
  st.unwritten.emplace(seq, std::move(bytes));
  schedule_retry(self);
}

constexpr auto retry_interval = std::chrono::seconds(1);

void schedule_retry(shard_actor self) {
  auto& st = self->state;
  if (st.retry_scheduled)
    return;
  st.retry_scheduled = true;
  self->delayed_send(self, retry_interval, flush_atom::value);
}

/// Re-sends the unwritten batches in order; the shard acknowledges again
/// once storage took all of them.
void retry_unwritten(shard_actor self) {
  auto& st = self->state;
  st.retry_scheduled = false;
  if (st.unwritten.empty())
    return;
  auto pending = std::make_shared<std::size_t>(st.unwritten.size());
  for (auto& [seq, bytes] : st.unwritten) {
    self
      ->request(st.options.storage, caf::infinite, append_atom::value,
                st.index, seq, bytes)
      .then(
        [self, pending](uint64_t written) {
          self->state.unwritten.erase(written);
          if (--*pending == 0 && self->state.unwritten.empty()) {
            self->state.failing = false;
            spdlog::info("shard {}: storage took every kept batch; "
                         "acknowledging again",
                         self->state.index);
          }
        },
        [self, pending](caf::error&) {
          if (--*pending == 0)
            schedule_retry(self);
        });
  }
}

/// Applies a batch (well formed) and answers `rp`: at once in memory mode,
/// once the batch is in the log with storage.
template <class Promise>
void apply_to(shard_actor self, const event_batch& batch, Promise rp) {
  auto& st = self->state;
  if (!st.options.storage) {
    rp.deliver(apply_in_memory(self, batch));
    return;
  }
  if (st.failing) {
    rp.deliver(all_rejected(batch, error_code::unavailable, st.failing_detail));
    return;
  }
  auto bytes = to_bytes(batch);
  auto seq = st.next_seq++;
  auto out = apply_in_memory(self, batch);
  self
    ->request(st.options.storage, caf::infinite, append_atom::value, st.index,
              seq, bytes)
    .then([rp, out](uint64_t) mutable { rp.deliver(std::move(out)); },
          [self, rp, seq, bytes](caf::error& err) mutable {
            auto why = self->system().render(err);
            event_batch lost;
            from_bytes(bytes, lost);
            storage_failed(self, seq, std::move(bytes), why);
            rp.deliver(all_rejected(lost, error_code::unavailable,
                                    "not stored: " + why));
          });
}

/// Applies a batch; with storage, answers once it is durable.
caf::result<apply_outcome> on_apply(shard_actor self,
                                    const event_batch& batch) {
  auto& st = self->state;
  if (!batch.well_formed())
    return caf::make_error(caf::sec::invalid_argument,
                           "malformed event batch");
  if (!st.options.storage)
    return apply_in_memory(self, batch);
  auto rp = self->make_response_promise<apply_outcome>();
  apply_to(self, batch, rp);
  return rp;
}

/// Deletes a key and answers `rp`; with storage, once the deletion is in
/// the log. When the log cannot take it the client gets an error, and the
/// deletion (already made in memory) is kept and re-sent like a failed
/// batch.
template <class Promise>
void erase_to(shard_actor self, const std::string& key, Promise rp) {
  auto& st = self->state;
  if (!st.options.storage) {
    rp.deliver(st.store.erase(key));
    return;
  }
  if (st.failing) {
    rp.deliver(make_error(error_code::unavailable, st.failing_detail));
    return;
  }
  if (!st.store.erase(key)) {
    rp.deliver(false); // nothing changed, nothing to log
    return;
  }
  auto bytes = to_bytes(erase_batch(key));
  auto seq = st.next_seq++;
  self
    ->request(st.options.storage, caf::infinite, append_atom::value, st.index,
              seq, bytes)
    .then([rp](uint64_t) mutable { rp.deliver(true); },
          [self, rp, seq, bytes](caf::error& err) mutable {
            auto why = self->system().render(err);
            storage_failed(self, seq, std::move(bytes), why);
            rp.deliver(make_error(error_code::unavailable,
                                  "deletion not stored: " + why));
          });
}

caf::result<bool> on_erase(shard_actor self, const std::string& key) {
  auto& st = self->state;
  if (!st.options.storage)
    return st.store.erase(key);
  auto rp = self->make_response_promise<bool>();
  erase_to(self, key, rp);
  return rp;
}

key_reply lookup(shard_state& st, const std::string& key) {
  auto record = st.store.get(key);
  if (!record)
    return key_reply{};
  return key_reply{true, std::move(*record)};
}

// -- cluster roles -----------------------------------------------------------

constexpr auto stash_limit = std::chrono::seconds(10);
constexpr std::size_t stash_max = 65536;

/// Answers one kept request as the shard's role now says.
void release(shard_actor self, shard_state::kept& k) {
  auto& st = self->state;
  auto* batch = std::get_if<event_batch>(&k.what);
  if (st.role.what == shard_role::kind::serve) {
    if (batch) {
      apply_to(self, *batch, k.rp);
    } else {
      auto& [is_erase, key] = std::get<1>(k.what);
      if (is_erase)
        erase_to(self, key, k.rp);
      else
        k.rp.deliver(lookup(st, key));
    }
    return;
  }
  if (!st.role.target) {
    k.rp.deliver(make_error(error_code::unavailable,
                            "shard " + std::to_string(st.index)
                              + " has no reachable owner"));
    return;
  }
  if (batch) {
    k.rp.delegate(st.role.target, apply_atom::value, std::move(*batch));
  } else {
    auto& [is_erase, key] = std::get<1>(k.what);
    if (is_erase)
      k.rp.delegate(st.role.target, erase_atom::value, std::move(key));
    else
      k.rp.delegate(st.role.target, lookup_atom::value, std::move(key));
  }
}

void release_stash(shard_actor self) {
  auto& st = self->state;
  auto stash = std::move(st.stash);
  st.stash.clear();
  for (auto& k : stash)
    release(self, k);
}

/// Keeps the current request until the handoff arrives.
template <class T>
caf::result<T> keep(shard_actor self, decltype(shard_state::kept::what) what) {
  auto& st = self->state;
  if (st.stash.size() >= stash_max)
    return make_error(error_code::unavailable,
                      "shard " + std::to_string(st.index)
                        + " is waiting for its handoff");
  auto rp = self->make_response_promise();
  st.stash.push_back({std::move(what), rp, std::chrono::steady_clock::now()});
  if (!st.stash_tick) {
    st.stash_tick = true;
    self->delayed_send(self, std::chrono::seconds(1), tick_atom::value,
                       uint8_t{1});
  }
  return caf::delegated<T>{};
}

/// Answers `unavailable` to what waited longer than `stash_limit`.
void expire_stash(shard_actor self) {
  auto& st = self->state;
  st.stash_tick = false;
  auto deadline = std::chrono::steady_clock::now() - stash_limit;
  while (!st.stash.empty() && st.stash.front().since < deadline) {
    auto& k = st.stash.front();
    auto detail = "shard " + std::to_string(st.index)
                  + " waits for its data from "
                  + (st.role.target_node.empty() ? std::string{"a member"}
                                                 : st.role.target_node);
    if (auto* batch = std::get_if<event_batch>(&k.what))
      k.rp.deliver(all_rejected(*batch, error_code::unavailable, detail));
    else
      k.rp.deliver(make_error(error_code::unavailable, detail));
    st.stash.pop_front();
  }
  if (!st.stash.empty()) {
    st.stash_tick = true;
    self->delayed_send(self, std::chrono::seconds(1), tick_atom::value,
                       uint8_t{1});
  }
}

/// Takes `snap` as this shard's state, makes it durable, then serves.
void install(shard_actor self, shard_snapshot snap,
             std::function<void()> done) {
  auto& st = self->state;
  snap.shard = st.index;
  snap.seq = st.next_seq - 1; // covers every older log batch of this shard
  st.store.restore(snap);
  auto finish = [self, done] {
    auto& st = self->state;
    st.role.what = shard_role::kind::serve;
    if (st.node)
      self->send(st.node, moved_atom::value, st.index, true);
    release_stash(self);
    done();
  };
  if (!st.options.storage) {
    finish();
    return;
  }
  self
    ->request(st.options.storage, std::chrono::seconds(30),
              handoff_atom::value, st.index, snap.seq, to_bytes(snap))
    .then([finish](bool) { finish(); },
          [self, done](caf::error& err) {
            spdlog::error("shard {}: cannot store the handed-over state: {}",
                          self->state.index, self->system().render(err));
            done();
          });
}

/// Sends this shard's state to its new owner; meanwhile and afterwards
/// every request is forwarded there (after the state, in order).
void hand_off(shard_actor self) {
  auto& st = self->state;
  if (st.handing_off || !st.role.target)
    return;
  st.handing_off = true;
  auto target = st.role.target;
  auto to_node = st.role.target_node;
  self
    ->request(target, std::chrono::seconds(30), handoff_atom::value,
              to_bytes(st.store.snapshot(st.next_seq - 1)))
    .then(
      [self, to_node](bool installed) {
        auto& st = self->state;
        st.handing_off = false;
        if (st.role.what != shard_role::kind::hand_off)
          return;
        st.role.what = shard_role::kind::forward;
        st.store = shard_store{st.index, st.options.limits};
        if (!installed)
          spdlog::warn("shard {}: {} already held it; dropping this copy",
                       st.index, to_node);
        if (st.node)
          self->send(st.node, moved_atom::value, st.index, false);
      },
      [self, to_node](caf::error& err) {
        self->state.handing_off = false;
        // Not ready yet is normal while membership spreads: no line.
        if (!carries_code(err) || error_code_of(err) != error_code::unavailable)
          spdlog::warn("shard {}: handoff to {} failed ({}); retrying",
                       self->state.index, to_node,
                       self->system().render(err));
      });
}

void on_role(shard_actor self, shard_role& role) {
  auto& st = self->state;
  st.node = caf::actor_cast<caf::actor>(self->current_sender());
  if (role.what == shard_role::kind::await
      && st.role.what == shard_role::kind::serve) {
    // The node has not yet heard that this shard took its state over
    // (moved_atom crossed the role): keep serving and tell it again.
    self->send(st.node, moved_atom::value, st.index, true);
    return;
  }
  st.role = std::move(role);
  switch (st.role.what) {
    case shard_role::kind::serve:
      release_stash(self);
      break;
    case shard_role::kind::await:
      if (st.role.empty) {
        spdlog::info("shard {}: no member holds its data; starting it empty",
                     st.index);
        shard_snapshot empty;
        install(self, std::move(empty), [] {});
      }
      break;
    case shard_role::kind::hand_off:
      hand_off(self);
      break;
    case shard_role::kind::forward:
      st.store = shard_store{st.index, st.options.limits};
      release_stash(self);
      break;
  }
}

/// The new owner's side of a handoff: true when installed, false when
/// this shard already holds the shard (the sender's copy is stale), an
/// error when this node does not know yet that it owns the shard (the
/// sender retries: membership reaches nodes at different times).
caf::result<bool> on_handoff(shard_actor self, const std::string& bytes) {
  auto& st = self->state;
  if (st.role.what == shard_role::kind::serve)
    return false;
  if (st.role.what != shard_role::kind::await)
    return make_error(error_code::unavailable,
                      "shard " + std::to_string(st.index)
                        + " does not expect a handoff yet");
  shard_snapshot snap;
  try {
    from_bytes(bytes, snap);
  } catch (const std::exception& e) {
    return make_error(error_code::internal, e.what());
  }
  auto rp = self->make_response_promise<bool>();
  auto keys = snap.records.size();
  install(self, std::move(snap), [self, rp, keys]() mutable {
    spdlog::info("shard {}: took over {} keys", self->state.index, keys);
    rp.deliver(self->state.role.what == shard_role::kind::serve);
  });
  return rp;
}

/// Where a request goes when this shard does not serve: kept, forwarded,
/// or refused.
template <class T, class... Ts>
caf::result<T> not_serving(shard_actor self,
                           decltype(shard_state::kept::what) what,
                           Ts&&... xs) {
  auto& st = self->state;
  if (st.role.what == shard_role::kind::await)
    return keep<T>(self, std::move(what));
  if (!st.role.target)
    return make_error(error_code::unavailable,
                      "shard " + std::to_string(st.index)
                        + " has no reachable owner");
  self->delegate(st.role.target, std::forward<Ts>(xs)...);
  return caf::delegated<T>{};
}

apply_outcome apply_in_memory(shard_actor self, const event_batch& batch) {
  auto& st = self->state;
  auto t0 = std::chrono::steady_clock::now();
  auto out = st.taps.empty() ? st.store.apply(batch)
                             : apply_tapped(self, batch);
  auto took = std::chrono::steady_clock::now() - t0;
  if (took > st.options.slow_batch)
    note_slow_batch(st, batch.size(), took);
  if (!out.rejected.empty()) {
    const auto& last = out.rejected.back();
    st.meter.note_error(last.code, last.detail);
  }
  return out;
}

std::string detail_of(const shard_state& st, const shard_store_stats& s) {
  boost::json::array hot;
  for (auto& [key, events] : st.store.hottest(hot_key_count))
    hot.push_back(boost::json::object{{"key", key}, {"events", events}});
  boost::json::object by_code;
  for (std::size_t i = 0; i < error_code_count; ++i)
    if (s.rejected[i] > 0)
      by_code[to_string(static_cast<error_code>(i))] = s.rejected[i];
  boost::json::object detail{
    {"hot_keys", std::move(hot)},
    {"rejected_by_code", std::move(by_code)},
    {"duplicates", s.duplicates},
    {"dedup_window",
     boost::json::object{{"ids", s.dedup_ids},
                         {"capacity", s.dedup_capacity}}},
    {"taps", st.taps.size()},
  };
  return boost::json::serialize(detail);
}

actor_info introspect(shard_actor self, bool deep) {
  auto& st = self->state;
  auto s = st.store.stats();
  actor_info info;
  info.id = self->id();
  info.name = "shard-" + std::to_string(st.index);
  info.kind = "shard";
  info.shard = static_cast<int32_t>(st.index);
  st.meter.fill(info, mailbox_depth(*self));
  info.applied = s.events_applied;
  for (auto n : s.rejected)
    info.rejected += n;
  info.keys = s.keys;
  info.bytes = s.bytes;
  if (deep)
    info.detail = detail_of(st, s);
  return info;
}

void add_tap(shard_actor self, caf::actor sink, std::string key,
             uint32_t rate) {
  auto& st = self->state;
  self->monitor(sink);
  tap_sub tap;
  tap.sink = std::move(sink);
  tap.key = std::move(key);
  tap.rate = std::max<uint32_t>(rate, 1);
  tap.tokens = tap.rate;
  tap.refilled = std::chrono::steady_clock::now();
  st.taps.push_back(std::move(tap));
}

caf::behavior shard_impl(shard_actor self, uint32_t index,
                         shard_options options) {
  auto& st = self->state;
  st.index = index;
  st.store = options.recovered ? std::move(*options.recovered)
                               : shard_store{index, options.limits};
  options.recovered.reset();
  st.next_seq = options.next_seq;
  if (options.clustered)
    st.role.what = shard_role::kind::await; // until the node actor says
  st.options = options;
  self->set_down_handler([self](const caf::down_msg& down) {
    std::erase_if(self->state.taps, [&](const tap_sub& tap) {
      return tap.sink.address() == down.source;
    });
  });
  return {
    // `const`: the parser keeps sharing the message (see parser.cpp).
    [=](apply_atom, const event_batch& batch) -> caf::result<apply_outcome> {
      return self->state.meter.measure([&]() -> caf::result<apply_outcome> {
        if (self->state.role.what == shard_role::kind::serve)
          return on_apply(self, batch);
        return not_serving<apply_outcome>(self, batch, apply_atom::value,
                                          batch);
      });
    },
    [=](lookup_atom, const std::string& key) -> caf::result<key_reply> {
      return self->state.meter.measure([&]() -> caf::result<key_reply> {
        if (self->state.role.what == shard_role::kind::serve)
          return lookup(self->state, key);
        return not_serving<key_reply>(self, std::make_pair(false, key),
                                      lookup_atom::value, key);
      });
    },
    [=](erase_atom, const std::string& key) -> caf::result<bool> {
      return self->state.meter.measure([&]() -> caf::result<bool> {
        if (self->state.role.what == shard_role::kind::serve)
          return on_erase(self, key);
        return not_serving<bool>(self, std::make_pair(true, key),
                                 erase_atom::value, key);
      });
    },
    [=](role_atom, shard_role& role) {
      self->state.meter.measure([&] { on_role(self, role); });
    },
    [=](handoff_atom, const std::string& bytes) -> caf::result<bool> {
      return self->state.meter.measure([&] { return on_handoff(self, bytes); });
    },
    [=](tick_atom, uint8_t) { expire_stash(self); },
    [=](stats_atom) -> shard_store_stats { return self->state.store.stats(); },
    [=](ready_atom) -> bool {
      return !self->state.failing
             && self->state.role.what == shard_role::kind::serve;
    },
    [=](snapshot_atom) {
      // Storage asks: the state after every batch so far (some of which
      // may still be on their way to the log: the snapshot covers them).
      self->state.meter.measure([&] {
        auto& st = self->state;
        auto seq = st.next_seq - 1;
        self->send(st.options.storage, snapshot_atom::value, st.index, seq,
                   to_bytes(st.store.snapshot(seq)));
      });
    },
    [=](flush_atom) { retry_unwritten(self); },
    [=](introspect_atom, bool deep) -> actor_info {
      return introspect(self, deep);
    },
    [=](tap_atom, caf::actor& sink, std::string& key, uint32_t rate) {
      add_tap(self, std::move(sink), std::move(key), rate);
    },
    [=](tick_atom) {
      self->state.note_scheduled = false;
      send_drop_notes(self, true);
    },
  };
}

} // namespace

caf::actor spawn_shard(caf::actor_system& sys, uint32_t index,
                       shard_options options) {
  return sys.spawn(shard_impl, index, options);
}

} // namespace eventide

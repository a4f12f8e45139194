#include "app/engine.hpp"

#include <algorithm>

#include <caf/all.hpp>
#include <caf/io/all.hpp>
#include <caf/openssl/all.hpp>
#include <spdlog/spdlog.h>

#include "actors/listener_probe.hpp"
#include "actors/node.hpp"
#include "actors/parser.hpp"
#include "actors/router.hpp"
#include "actors/session.hpp"
#include "actors/shard.hpp"
#include "actors/wal_log.hpp"
#include "messages/cluster.hpp"
#include "messages/messages.hpp"
#include "messages/serialization.hpp"
#include "messages/storage.hpp"

namespace eventide {

namespace {

failure to_failure(caf::actor_system& sys, const caf::error& err) {
  // An answer of our own carries its detail as its context.
  if (carries_code(err) && err.context().match_elements<std::string>())
    return {error_code_of(err), err.context().get_as<std::string>(0)};
  return {error_code_of(err), sys.render(err)};
}

/// Sends one request from a short-lived actor and hands the answer (or the
/// error) to `done`; the io side never blocks on an actor.
template <class Reply, class Done, class... Args>
void ask(caf::actor_system& sys, caf::actor dest, caf::timespan timeout,
         Done done, Args... args) {
  // `dest` goes in as a spawn argument: CAF 0.17's init_fun_factory binds a
  // reference through a null pointer for argument-less functors (UBSan).
  // The arguments are moved, not copied: a POST body can be 16 MiB.
  auto fn = [&sys, timeout, done = std::move(done), ... args = std::move(args)](
              caf::event_based_actor* self, caf::actor to) mutable {
    self->request(to, timeout, std::move(args)...)
      .then([done](Reply& reply) mutable { done(std::move(reply)); },
            [done, &sys](caf::error& err) mutable {
              done(to_failure(sys, err));
            });
  };
  sys.spawn(std::move(fn), std::move(dest));
}

/// A TCP connection's channel: a session actor pinned to one parser.
class session_channel : public backend::channel {
public:
  explicit session_channel(caf::actor session) : session_(std::move(session)) {
  }

  ~session_channel() override {
    caf::anon_send_exit(session_, caf::exit_reason::user_shutdown);
  }

  void submit(ingest_chunk chunk) override {
    caf::anon_send(session_, ingest_atom::value, std::move(chunk));
  }

private:
  caf::actor session_;
};

/// A live tap: its sink actor ends with the handle, which ends the
/// shard's subscription (the shard monitors the sink).
class sink_handle : public backend::tap_handle {
public:
  explicit sink_handle(caf::actor sink) : sink_(std::move(sink)) {
  }
  ~sink_handle() override {
    caf::anon_send_exit(sink_, caf::exit_reason::user_shutdown);
  }

private:
  caf::actor sink_;
};

caf::behavior tap_sink_impl(caf::event_based_actor*,
                            backend::tap_sink on_record) {
  return {
    [on_record](tap_atom, tap_record& rec) { on_record(std::move(rec)); },
  };
}

/// What recovery hands to the shards and the storage actor.
struct recovered_state {
  std::vector<std::shared_ptr<shard_store>> stores;
  std::vector<uint64_t> next_seq;
  std::vector<wal_segment> segments;
};

/// Loads each shard's snapshot and replays the WAL after it; logs what it
/// found. Throws std::runtime_error when the data dir cannot be used.
recovered_state recover(const storage_options& so, shard_limits limits) {
  auto t0 = std::chrono::steady_clock::now();
  open_data_dir(so.dir, so.shards);
  recovered_state out;
  std::vector<uint64_t> from(so.shards, 0);
  uint64_t snapshots = 0;
  for (uint32_t s = 0; s < so.shards; ++s) {
    auto store = std::make_shared<shard_store>(s, limits);
    auto bytes = read_snapshot_file(so.dir, s);
    if (!bytes.empty()) {
      shard_snapshot snap;
      try {
        from_bytes(bytes, snap);
      } catch (const std::exception& e) {
        throw std::runtime_error("snapshot of shard " + std::to_string(s)
                                 + " in " + so.dir + ": " + e.what());
      }
      if (snap.shard != s)
        throw std::runtime_error("snapshot file of shard " + std::to_string(s)
                                 + " holds shard "
                                 + std::to_string(snap.shard));
      store->restore(snap);
      from[s] = snap.seq;
      ++snapshots;
    }
    out.stores.push_back(std::move(store));
  }
  event_batch batch;
  auto wal = recover_wal(
    so.dir, so.shards, from,
    [&](uint32_t shard, uint64_t seq, std::string_view bytes) {
      batch.clear();
      try {
        from_bytes(bytes, batch);
      } catch (const std::exception& e) {
        throw std::runtime_error("WAL batch " + std::to_string(seq)
                                 + " of shard " + std::to_string(shard)
                                 + ": " + e.what());
      }
      if (!batch.well_formed())
        throw std::runtime_error("WAL batch " + std::to_string(seq)
                                 + " of shard " + std::to_string(shard)
                                 + " is malformed");
      if (is_erase(batch))
        out.stores[shard]->erase(batch.text);
      else
        out.stores[shard]->apply(batch);
    });
  if (wal.truncated_bytes > 0)
    spdlog::warn("recovery: cut {} bytes of a torn tail ({}) off {}",
                 wal.truncated_bytes, wal.truncated_reason,
                 wal.truncated_file);
  out.next_seq.resize(so.shards);
  for (uint32_t s = 0; s < so.shards; ++s)
    out.next_seq[s] = wal.last_seq[s] + 1;
  out.segments = std::move(wal.segments);
  uint64_t keys = 0;
  uint64_t applied = 0;
  for (auto& store : out.stores) {
    auto st = store->stats();
    keys += st.keys;
    applied += st.events_applied;
  }
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(
              std::chrono::steady_clock::now() - t0)
              .count();
  spdlog::info("recovered {} keys and {} applied events from {} ({} "
               "snapshots, {} log batches) in {} ms",
               keys, applied, so.dir, snapshots, wal.replayed, ms);
  return out;
}

} // namespace

engine::engine(caf::actor_system& sys, engine_config cfg)
  : sys_(sys), cfg_(cfg) {
  auto per_shard = (cfg.dedup_window + cfg.shards - 1) / cfg.shards;
  bool clustered = cfg.cluster_port != 0;
  node_options no;
  node_memory memory;
  if (clustered) {
    no.cluster = cfg.cluster_name;
    no.name = cfg.node_name;
    no.shards = cfg.shards;
    no.seeds = cfg.cluster_seeds;
    no.request_timeout = cfg.query_timeout;
    no.tls = cfg.cluster_tls;
    if (cfg.durable) {
      open_data_dir(cfg.storage.dir, cfg.shards);
      no.state_file = cfg.storage.dir + "/CLUSTER";
    }
    memory = load_node_memory(no);
    if (!memory.found && cfg.cluster_seeds.empty())
      for (uint32_t s = 0; s < cfg.shards; ++s)
        memory.held.push_back(s); // the first node of a new cluster
    memory.found = true;
  }
  recovered_state rec;
  if (cfg.durable) {
    cfg.storage.shards = cfg.shards;
    rec = recover(cfg.storage, shard_limits{per_shard});
    storage_ = spawn_storage(sys, cfg.storage, std::move(rec.segments),
                             rec.next_seq);
  }
  for (uint32_t i = 0; i < cfg.shards; ++i) {
    shard_options so{shard_limits{per_shard}, cfg.slow_batch};
    so.clustered = clustered;
    if (cfg.durable) {
      so.storage = storage_;
      // A shard this node does not hold starts empty: what the log has
      // of it is older than its holder's state.
      bool held = !clustered
                  || std::find(memory.held.begin(), memory.held.end(), i)
                       != memory.held.end();
      if (held)
        so.recovered = std::move(rec.stores[i]);
      so.next_seq = rec.next_seq[i];
    }
    shards_.push_back(spawn_shard(sys, i, std::move(so)));
  }
  if (storage_)
    caf::anon_send(storage_, join_atom::value, shards_);
  for (uint32_t i = 0; i < cfg.parsers; ++i)
    parsers_.push_back(
      spawn_parser(sys, i, shards_, cfg.limits, cfg.request_timeout));
  router_ = spawn_router(sys, shards_, parsers_, cfg.query_timeout,
                         cfg.summary_interval, cfg.node_name);
  if (storage_)
    caf::anon_send(router_, join_atom::value, storage_);
  if (!clustered)
    return;
  node_hooks hooks{cfg.on_refused, cfg.on_left};
  node_ = spawn_node(sys, no, shards_, parsers_, router_, std::move(memory),
                     std::move(hooks));
  caf::anon_send(router_, join_atom::value, node_);
  auto port = cfg.cluster_tls
                ? caf::openssl::publish(node_, cfg.cluster_port,
                                        cfg.cluster_host.c_str(), true)
                : sys.middleman().publish(node_, cfg.cluster_port,
                                          cfg.cluster_host.c_str(), true);
  if (!port) {
    stop();
    throw std::runtime_error("cannot publish the node actor on "
                             + cfg.cluster_host + ":"
                             + std::to_string(cfg.cluster_port) + ": "
                             + sys.render(port.error()));
  }
  auto host = cfg.cluster_host.find(':') != std::string::npos
                ? "[" + cfg.cluster_host + "]"
                : cfg.cluster_host;
  cluster_address_ = host + ":" + std::to_string(*port);
  caf::anon_send(node_, join_atom::value, cluster_address_);
}

engine::~engine() {
  stop();
}

void engine::stop() {
  if (router_)
    caf::anon_send_exit(router_, caf::exit_reason::user_shutdown);
  for (auto& p : parsers_)
    caf::anon_send_exit(p, caf::exit_reason::user_shutdown);
  for (auto& s : shards_)
    caf::anon_send_exit(s, caf::exit_reason::user_shutdown);
  if (storage_)
    caf::anon_send_exit(storage_, caf::exit_reason::user_shutdown);
  storage_ = nullptr;
  if (node_)
    caf::anon_send_exit(node_, caf::exit_reason::user_shutdown);
  node_ = nullptr;
  remove_listeners();
  router_ = nullptr;
  parsers_.clear();
  shards_.clear();
}

caf::actor engine::next_parser() {
  return parsers_[next_parser_++ % parsers_.size()];
}

std::unique_ptr<backend::channel>
engine::open_channel(result_handler on_result, std::string peer) {
  auto deliver = [on_result](chunk_result r) { on_result(std::move(r)); };
  auto session = spawn_session(sys_, next_parser(), std::move(deliver),
                               cfg_.request_timeout, std::move(peer));
  caf::anon_send(router_, join_atom::value, session);
  return std::make_unique<session_channel>(std::move(session));
}

void engine::post_events(ingest_chunk chunk, result_handler done) {
  ask<chunk_result>(sys_, next_parser(), cfg_.request_timeout, std::move(done),
                    ingest_atom::value, std::move(chunk));
}

void engine::get_key(
  std::string key,
  std::function<void(outcome<std::optional<std::string>>)> done) {
  auto on_reply = [done](outcome<key_reply> r) {
    if (auto* f = std::get_if<failure>(&r))
      return done(std::move(*f));
    auto& reply = std::get<key_reply>(r);
    if (!reply.found)
      return done(std::optional<std::string>{});
    done(std::optional<std::string>{std::move(reply.record)});
  };
  ask<key_reply>(sys_, router_, cfg_.query_timeout, on_reply,
                 lookup_atom::value, std::move(key));
}

void engine::delete_key(std::string key,
                        std::function<void(outcome<bool>)> done) {
  ask<bool>(sys_, router_, cfg_.query_timeout, std::move(done),
            erase_atom::value, std::move(key));
}

void engine::stats(std::function<void(outcome<system_totals>)> done) {
  ask<system_totals>(sys_, router_, cfg_.query_timeout, std::move(done),
                     stats_atom::value);
}

void engine::ready(std::function<void(outcome<bool>)> done) {
  ask<bool>(sys_, router_, cfg_.query_timeout, std::move(done),
            ready_atom::value);
}

void engine::actors(
  std::function<void(outcome<std::vector<actor_info>>)> done) {
  ask<std::vector<actor_info>>(sys_, router_, cfg_.query_timeout,
                               std::move(done), introspect_atom::value);
}

void engine::actor(
  uint64_t id, std::function<void(outcome<std::optional<actor_info>>)> done) {
  auto on_reply = [done](outcome<actor_info> r) {
    if (auto* f = std::get_if<failure>(&r))
      return done(std::move(*f));
    auto& info = std::get<actor_info>(r);
    if (info.id == caf::invalid_actor_id) // the router knows no such actor
      return done(std::optional<actor_info>{});
    done(std::optional<actor_info>{std::move(info)});
  };
  ask<actor_info>(sys_, router_, cfg_.query_timeout, std::move(on_reply),
                  introspect_atom::value, id);
}

void engine::cluster(std::function<void(outcome<cluster_view>)> done) {
  if (node_) {
    ask<cluster_view>(sys_, node_, cfg_.query_timeout, std::move(done),
                      cluster_atom::value);
    return;
  }
  // Standalone: this node is the only member and owns every shard.
  cluster_view view;
  view.self = cfg_.node_name;
  view.epoch = 1;
  view.members.push_back(member_view{cfg_.node_name, "", "up",
                                     static_cast<uint32_t>(cfg_.shards),
                                     static_cast<uint32_t>(cfg_.shards)});
  view.placement.assign(cfg_.shards, cfg_.node_name);
  done(std::move(view));
}

void engine::cluster_command(std::string command, std::string node,
                             std::function<void(outcome<std::string>)> done) {
  if (!node_) {
    done(failure{error_code::internal,
                 "this server runs standalone (cluster.port = 0)"});
    return;
  }
  if (command == "leave")
    ask<std::string>(sys_, node_, cfg_.query_timeout, std::move(done),
                     leave_atom::value, std::move(node));
  else
    ask<std::string>(sys_, node_, cfg_.query_timeout, std::move(done),
                     remove_atom::value, std::move(node));
}

void engine::open_tap(
  tap_request what, tap_sink on_record,
  std::function<void(outcome<std::shared_ptr<tap_handle>>)> opened) {
  auto sink = sys_.spawn(tap_sink_impl, std::move(on_record));
  auto handle = std::make_shared<sink_handle>(sink);
  auto on_reply = [opened, handle](outcome<uint32_t> r) mutable {
    if (auto* f = std::get_if<failure>(&r))
      return opened(std::move(*f)); // the handle ends the sink
    handle->shard = std::get<uint32_t>(r);
    opened(std::shared_ptr<tap_handle>{std::move(handle)});
  };
  ask<uint32_t>(sys_, router_, cfg_.query_timeout, std::move(on_reply),
                tap_atom::value, std::move(sink), std::move(what.key),
                what.shard, what.rate);
}

void engine::add_listener(std::string name, std::string address,
                          std::function<listener_counts()> read) {
  auto probe = spawn_listener_probe(sys_, std::move(name), std::move(address),
                                    std::move(read));
  caf::anon_send(router_, join_atom::value, probe);
  probes_.push_back(std::move(probe));
}

void engine::remove_listeners() {
  for (auto& p : probes_)
    caf::anon_send_exit(p, caf::exit_reason::user_shutdown);
  probes_.clear();
}

} // namespace eventide

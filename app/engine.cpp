#include "app/engine.hpp"

#include <caf/all.hpp>

#include "actors/parser.hpp"
#include "actors/router.hpp"
#include "actors/session.hpp"
#include "actors/shard.hpp"
#include "messages/messages.hpp"

namespace eventide {

namespace {

failure to_failure(caf::actor_system& sys, const caf::error& err) {
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

} // namespace

engine::engine(caf::actor_system& sys, engine_config cfg)
  : sys_(sys), cfg_(cfg) {
  auto per_shard = (cfg.dedup_window + cfg.shards - 1) / cfg.shards;
  for (uint32_t i = 0; i < cfg.shards; ++i)
    shards_.push_back(spawn_shard(sys, i, shard_limits{per_shard}));
  for (uint32_t i = 0; i < cfg.parsers; ++i)
    parsers_.push_back(
      spawn_parser(sys, i, shards_, cfg.limits, cfg.request_timeout));
  router_ = spawn_router(sys, shards_, parsers_, cfg.query_timeout,
                         cfg.summary_interval);
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
  router_ = nullptr;
  parsers_.clear();
  shards_.clear();
}

caf::actor engine::next_parser() {
  return parsers_[next_parser_++ % parsers_.size()];
}

std::unique_ptr<backend::channel>
engine::open_channel(result_handler on_result) {
  auto deliver = [on_result](chunk_result r) { on_result(std::move(r)); };
  auto session = spawn_session(sys_, next_parser(), std::move(deliver),
                               cfg_.request_timeout);
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

void engine::stats(std::function<void(outcome<std::string>)> done) {
  ask<std::string>(sys_, router_, cfg_.query_timeout, std::move(done),
                   stats_atom::value);
}

void engine::ready(std::function<void(outcome<bool>)> done) {
  ask<bool>(sys_, router_, cfg_.query_timeout, std::move(done),
            ready_atom::value);
}

} // namespace eventide

#include "actors/session.hpp"

#include <boost/json.hpp>
#include <caf/all.hpp>

#include "actors/actor_meter.hpp"
#include "actors/mailbox_depth.hpp"
#include "messages/introspection.hpp"
#include "messages/messages.hpp"

namespace eventide {

namespace {

struct session_state {
  static inline const char* name = "session";
  caf::actor parser;
  chunk_callback deliver;
  caf::timespan timeout{};
  std::string peer;
  actor_meter meter;
  uint64_t lines = 0;    // lines submitted
  uint64_t answered = 0; // lines whose result came back
  uint64_t accepted = 0; // applied or duplicate
  uint64_t rejected = 0;
  uint64_t chunk_bytes = 0; // raw bytes of chunks not answered yet

  void account(const chunk_result& r, std::size_t bytes) {
    answered += r.line_count;
    accepted += r.applied + r.duplicates;
    rejected += rejected_count(r);
    chunk_bytes -= bytes;
    if (!r.rejected.empty())
      meter.note_error(r.rejected.back().code, r.rejected.back().detail);
  }
};

using session_actor = caf::stateful_actor<session_state>*;

actor_info introspect(session_actor self, bool deep) {
  auto& st = self->state;
  actor_info info;
  info.id = self->id();
  info.name = "session-" + st.peer;
  info.kind = "session";
  st.meter.fill(info, mailbox_depth(*self));
  info.applied = st.accepted;
  info.rejected = st.rejected;
  info.bytes = st.chunk_bytes;
  if (deep) {
    boost::json::object detail{
      {"peer", st.peer},
      {"lines", st.lines},
      {"acked", st.answered},
      {"inflight", st.lines - st.answered},
    };
    info.detail = boost::json::serialize(detail);
  }
  return info;
}

caf::behavior session_impl(session_actor self, caf::actor parser,
                           chunk_callback deliver, caf::timespan timeout,
                           std::string peer) {
  self->state.parser = std::move(parser);
  self->state.deliver = std::move(deliver);
  self->state.timeout = timeout;
  self->state.peer = std::move(peer);
  return {
    [=](ingest_atom, ingest_chunk& chunk) {
      self->state.meter.measure([&] {
        auto first = chunk.first_seq;
        auto lines = chunk.line_count;
        auto bytes = chunk.data.size();
        self->state.lines += lines;
        self->state.chunk_bytes += bytes;
        self
          ->request(self->state.parser, self->state.timeout,
                    ingest_atom::value, std::move(chunk))
          .then(
            [=](chunk_result& result) {
              self->state.account(result, bytes);
              self->state.deliver(std::move(result));
            },
            [=](caf::error& err) {
              auto result = failed_chunk(first, lines, error_code_of(err),
                                         self->system().render(err));
              self->state.account(result, bytes);
              self->state.deliver(std::move(result));
            });
      });
    },
    [=](introspect_atom, bool deep) -> actor_info {
      return introspect(self, deep);
    },
  };
}

} // namespace

chunk_result failed_chunk(uint64_t first_seq, uint64_t line_count,
                          error_code code, const std::string& detail) {
  chunk_result result;
  result.first_seq = first_seq;
  result.line_count = line_count;
  for (uint64_t i = 0; i < line_count; ++i)
    result.rejected.push_back({first_seq + i, {}, code, detail});
  return result;
}

caf::actor spawn_session(caf::actor_system& sys, caf::actor parser,
                         chunk_callback deliver, caf::timespan timeout,
                         std::string peer) {
  return sys.spawn(session_impl, std::move(parser), std::move(deliver),
                   timeout, std::move(peer));
}

} // namespace eventide

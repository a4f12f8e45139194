#include "actors/session.hpp"

#include <caf/all.hpp>

#include "messages/messages.hpp"

namespace eventide {

namespace {

struct session_state {
  static inline const char* name = "session";
  caf::actor parser;
  chunk_callback deliver;
  caf::timespan timeout{};
};

caf::behavior session_impl(caf::stateful_actor<session_state>* self,
                           caf::actor parser, chunk_callback deliver,
                           caf::timespan timeout) {
  self->state.parser = std::move(parser);
  self->state.deliver = std::move(deliver);
  self->state.timeout = timeout;
  return {
    [=](ingest_atom, ingest_chunk& chunk) {
      auto first = chunk.first_seq;
      auto lines = chunk.line_count;
      self
        ->request(self->state.parser, self->state.timeout, ingest_atom::value,
                  std::move(chunk))
        .then(
          [=](chunk_result& result) {
            self->state.deliver(std::move(result));
          },
          [=](caf::error& err) {
            self->state.deliver(failed_chunk(first, lines, error_code_of(err),
                                             self->system().render(err)));
          });
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
                         chunk_callback deliver, caf::timespan timeout) {
  return sys.spawn(session_impl, std::move(parser), std::move(deliver),
                   timeout);
}

} // namespace eventide

#include "actors/shard.hpp"

#include <caf/all.hpp>

#include "messages/messages.hpp"

namespace eventide {

namespace {

struct shard_state {
  static inline const char* name = "shard";
  shard_store store;
};

caf::behavior shard_impl(caf::stateful_actor<shard_state>* self,
                         uint32_t index, shard_limits limits) {
  self->state.store = shard_store{index, limits};
  return {
    // `const`: the parser keeps sharing the message (see parser.cpp).
    [=](apply_atom, const event_batch& batch) -> caf::result<apply_outcome> {
      if (!batch.well_formed())
        return caf::make_error(caf::sec::invalid_argument,
                               "malformed event batch");
      return self->state.store.apply(batch);
    },
    [=](lookup_atom, const std::string& key) -> key_reply {
      auto record = self->state.store.get(key);
      if (!record)
        return {};
      return key_reply{true, std::move(*record)};
    },
    [=](erase_atom, const std::string& key) -> bool {
      return self->state.store.erase(key);
    },
    [=](stats_atom) -> shard_store_stats {
      return self->state.store.stats();
    },
    [=](ready_atom) -> bool { return true; },
  };
}

} // namespace

caf::actor spawn_shard(caf::actor_system& sys, uint32_t index,
                       shard_limits limits) {
  return sys.spawn(shard_impl, index, limits);
}

} // namespace eventide

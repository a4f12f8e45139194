#include "actors/listener_probe.hpp"

#include <boost/json.hpp>
#include <caf/all.hpp>

#include "actors/actor_meter.hpp"
#include "actors/mailbox_depth.hpp"
#include "messages/introspection.hpp"

namespace eventide {

namespace {

struct probe_state {
  static inline const char* name = "listener";
  std::string name_text;
  std::string address;
  std::function<listener_counts()> read;
  actor_meter meter;
};

using probe_actor = caf::stateful_actor<probe_state>*;

actor_info introspect(probe_actor self, bool deep) {
  auto& st = self->state;
  auto counts = st.read();
  actor_info info;
  info.id = self->id();
  info.name = st.name_text;
  info.kind = "listener";
  st.meter.fill(info, mailbox_depth(*self));
  if (deep)
    info.detail = boost::json::serialize(boost::json::object{
      {"address", st.address},
      {"accepted", counts.accepted},
      {"open", counts.open},
    });
  return info;
}

caf::behavior probe_impl(probe_actor self, std::string name,
                         std::string address,
                         std::function<listener_counts()> read) {
  self->state.name_text = std::move(name);
  self->state.address = std::move(address);
  self->state.read = std::move(read);
  return {
    [=](introspect_atom, bool deep) -> actor_info {
      return introspect(self, deep);
    },
  };
}

} // namespace

caf::actor spawn_listener_probe(caf::actor_system& sys, std::string name,
                                std::string address,
                                std::function<listener_counts()> read) {
  return sys.spawn(probe_impl, std::move(name), std::move(address),
                   std::move(read));
}

} // namespace eventide

#include "actors/node.hpp"

// Design note. Membership is a set of member records, each owned by the
// member it describes: only that node changes its record (bumping its
// version), every other node keeps the newest copy it has seen, from a
// hello or from gossip. Whether a peer is reachable is each node's own
// observation (a monitored node actor that went down), never gossiped.
// Placement is a pure function of the member names that are not leaving
// (rendezvous hashing), so every node that knows the same members computes
// the same owners without agreement rounds. Data moves only by handoff:
// the member that *holds* a shard (a flag in its record, kept in its data
// dir) sends the shard's state to the owner, so a shard's data is never in
// two places and never re-created while someone still holds it. A shard
// nobody holds (a removed member's, or a memory-mode node's after a
// restart) is started empty by its owner, and only once every member is
// reachable, so that no holder can be overlooked.

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <map>
#include <set>
#include <sstream>

#include <boost/json.hpp>
#include <caf/all.hpp>
#include <caf/io/all.hpp>
#include <caf/openssl/all.hpp>
#include <spdlog/spdlog.h>

#include "actors/actor_meter.hpp"
#include "actors/mailbox_depth.hpp"
#include "actors/placement.hpp"
#include "actors/wal_log.hpp"
#include "messages/cluster.hpp"
#include "messages/introspection.hpp"
#include "messages/messages.hpp"

namespace eventide {

namespace {

struct peer {
  member_record rec;
  bool reachable = false;
  bool connecting = false;
  bool ever_reached = false;
};

struct sent_role {
  bool valid = false;
  shard_role::kind what = shard_role::kind::serve;
  bool empty = false;
  caf::actor_addr target;
};

struct node_state {
  static inline const char* name = "node";
  node_options options;
  node_hooks hooks;
  member_record self_rec;
  std::map<std::string, peer> peers;   // by node name, self not included
  std::set<std::string> removed;       // tombstones
  std::vector<std::string> seeds;      // addresses to try while alone
  std::vector<std::string> owners;     // placement: shard -> node name
  std::vector<sent_role> roles;        // last role sent to each local shard
  std::vector<caf::actor> parsers;
  caf::actor router;
  route_table routes;
  uint64_t epoch = 0;
  bool started = false;
  bool joined = false; // reached a member (or bootstrapped alone)
  bool stopping = false;
  std::set<std::string> unreachable_logged; // addresses warned about
  actor_meter meter;
};

using node_actor = caf::stateful_actor<node_state>*;

uint64_t now_ms() {
  using namespace std::chrono;
  return static_cast<uint64_t>(
    duration_cast<milliseconds>(system_clock::now().time_since_epoch())
      .count());
}

bool holds(const member_record& rec, uint32_t shard) {
  return std::binary_search(rec.held.begin(), rec.held.end(), shard);
}

std::pair<std::string, uint16_t> split_address(const std::string& text) {
  auto colon = text.rfind(':');
  auto host = text.substr(0, colon);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']')
    host = host.substr(1, host.size() - 2);
  return {host, static_cast<uint16_t>(std::stoul(text.substr(colon + 1)))};
}

// -- the state file --------------------------------------------------------

void save(node_actor self) {
  auto& st = self->state;
  if (st.options.state_file.empty())
    return;
  boost::json::array held;
  for (auto s : st.self_rec.held)
    held.push_back(s);
  boost::json::array peers;
  for (auto& [name, p] : st.peers)
    peers.push_back(boost::json::object{{"node", name},
                                        {"address", p.rec.address}});
  boost::json::array removed;
  for (auto& name : st.removed)
    removed.push_back(boost::json::string{name});
  boost::json::object doc{
    {"format", 1},
    {"cluster", st.options.cluster},
    {"node", st.options.name},
    {"shards", st.options.shards},
    {"held", std::move(held)},
    {"members", std::move(peers)},
    {"removed", std::move(removed)},
  };
  try {
    write_file_atomically(st.options.state_file,
                          boost::json::serialize(doc) + "\n");
  } catch (const std::exception& e) {
    spdlog::error("cluster: cannot save {}: {}", st.options.state_file,
                  e.what());
  }
}

// -- placement and roles ---------------------------------------------------

/// Members that take part in the placement: not leaving, not removed.
std::vector<std::string> placement_names(const node_state& st) {
  std::vector<std::string> names;
  if (!st.self_rec.leaving)
    names.push_back(st.self_rec.node);
  for (auto& [name, p] : st.peers)
    if (!p.rec.leaving)
      names.push_back(name);
  if (names.empty()) // the last member leaving keeps its shards
    names.push_back(st.self_rec.node);
  return names;
}

const member_record* record_of(const node_state& st, const std::string& name) {
  if (name == st.self_rec.node)
    return &st.self_rec;
  auto it = st.peers.find(name);
  return it == st.peers.end() ? nullptr : &it->second.rec;
}

bool reachable(const node_state& st, const std::string& name) {
  if (name == st.self_rec.node)
    return true;
  auto it = st.peers.find(name);
  return it != st.peers.end() && it->second.reachable;
}

/// The shard actor of `name` for shard `s`, null when not known yet.
caf::actor shard_actor_of(const node_state& st, const std::string& name,
                          uint32_t s) {
  auto* rec = record_of(st, name);
  if (!rec || rec->shards.size() <= s)
    return {};
  return rec->shards[s];
}

/// Who holds shard `s` other than this node, if anyone.
const member_record* other_holder(const node_state& st, uint32_t s) {
  for (auto& [name, p] : st.peers)
    if (holds(p.rec, s))
      return &p.rec;
  return nullptr;
}

bool all_reachable(const node_state& st) {
  return std::all_of(st.peers.begin(), st.peers.end(),
                     [](auto& kv) { return kv.second.reachable; });
}

void send_role(node_actor self, uint32_t s, shard_role role, bool force) {
  auto& st = self->state;
  auto& last = st.roles[s];
  auto target = role.target ? role.target.address() : caf::actor_addr{};
  if (!force && last.valid && last.what == role.what
      && last.empty == role.empty && last.target == target)
    return;
  last = {true, role.what, role.empty, target};
  role.epoch = st.epoch;
  self->send(st.self_rec.shards[s], role_atom::value, std::move(role));
}

/// Recomputes the placement from the membership and tells the shards,
/// parsers and router what changed. `retry` re-sends pending handoffs.
void place(node_actor self, bool retry = false) {
  auto& st = self->state;
  if (!st.started || st.stopping)
    return;
  auto names = placement_names(st);
  auto index = place_shards(names, st.options.shards);
  std::vector<std::string> owners(st.options.shards);
  for (uint32_t s = 0; s < st.options.shards; ++s)
    owners[s] = names[index[s]];
  if (owners != st.owners) {
    std::map<std::string, int> moves;
    if (!st.owners.empty())
      for (uint32_t s = 0; s < st.options.shards; ++s)
        if (owners[s] != st.owners[s])
          ++moves[st.owners[s] + "->" + owners[s]];
    ++st.epoch;
    if (!st.owners.empty() && !moves.empty()) {
      std::string parts;
      int total = 0;
      for (auto& [pair, n] : moves) {
        parts += ' ' + pair + '=' + std::to_string(n);
        total += n;
      }
      spdlog::info("cluster: placement epoch {} over {} members: {} shards "
                   "move:{}",
                   st.epoch, names.size(), total, parts);
    }
    st.owners = std::move(owners);
  }
  // Roles of the local shards.
  bool everyone = all_reachable(st);
  for (uint32_t s = 0; s < st.options.shards; ++s) {
    const auto& owner = st.owners[s];
    bool mine = holds(st.self_rec, s);
    shard_role role;
    if (owner == st.self_rec.node) {
      if (mine) {
        role.what = shard_role::kind::serve;
      } else if (auto* h = other_holder(st, s)) {
        role.what = shard_role::kind::await;
        role.target_node = h->node;
      } else {
        role.what = shard_role::kind::await;
        role.empty = everyone && st.joined;
      }
    } else if (mine) {
      auto target = shard_actor_of(st, owner, s);
      if (target && reachable(st, owner)) {
        role.what = shard_role::kind::hand_off;
        role.target = target;
        role.target_node = owner;
      } else {
        role.what = shard_role::kind::serve; // keep it until we can
      }
    } else {
      role.what = shard_role::kind::forward;
      role.target = shard_actor_of(st, owner, s);
      role.target_node = owner;
    }
    bool force = retry && role.what == shard_role::kind::hand_off;
    send_role(self, s, std::move(role), force);
  }
  // Routes for parsers and router.
  route_table routes;
  routes.epoch = st.epoch;
  routes.shards.resize(st.options.shards);
  routes.available.resize(st.options.shards);
  routes.owners = st.owners;
  for (uint32_t s = 0; s < st.options.shards; ++s) {
    const auto& owner = st.owners[s];
    routes.shards[s] = shard_actor_of(st, owner, s);
    routes.available[s] = routes.shards[s] && reachable(st, owner) ? 1 : 0;
  }
  for (auto& [name, p] : st.peers)
    if (p.rec.router && p.reachable) {
      routes.routers.push_back(p.rec.router);
      routes.router_nodes.push_back(name);
    }
  if (routes.shards != st.routes.shards
      || routes.available != st.routes.available
      || routes.routers != st.routes.routers) {
    st.routes = routes;
    for (auto& p : st.parsers)
      self->send(p, route_atom::value, routes);
    self->send(st.router, route_atom::value, std::move(routes));
  }
}

// -- membership --------------------------------------------------------------

membership snapshot_of(const node_state& st) {
  membership m;
  m.epoch = st.epoch;
  m.members.push_back(st.self_rec);
  for (auto& [name, p] : st.peers)
    m.members.push_back(p.rec);
  m.removed.assign(st.removed.begin(), st.removed.end());
  return m;
}

void connect(node_actor self, const std::string& address);

/// Takes what another node knows; true when something changed.
bool merge(node_actor self, const membership& m) {
  auto& st = self->state;
  bool changed = false;
  st.epoch = std::max(st.epoch, m.epoch);
  for (auto& name : m.removed) {
    if (name == st.self_rec.node)
      continue; // handled by the hello/gossip caller
    if (st.removed.insert(name).second) {
      changed = true;
      if (st.peers.erase(name) > 0)
        spdlog::warn("cluster: member {} was removed by an operator", name);
    }
  }
  for (auto& rec : m.members) {
    if (rec.node == st.self_rec.node || st.removed.count(rec.node) > 0)
      continue;
    auto it = st.peers.find(rec.node);
    if (it == st.peers.end()) {
      auto& p = st.peers[rec.node];
      p.rec = rec;
      changed = true;
      spdlog::info("cluster: learned of member {} at {}", rec.node,
                   rec.address);
      connect(self, rec.address);
      continue;
    }
    auto& p = it->second;
    auto newer = std::tie(rec.incarnation, rec.version)
                 > std::tie(p.rec.incarnation, p.rec.version);
    if (!newer)
      continue;
    bool restarted = rec.incarnation != p.rec.incarnation;
    p.rec = rec;
    changed = true;
    if (restarted && !p.reachable)
      connect(self, rec.address);
  }
  return changed;
}

void mark_reachable(node_actor self, const member_record& rec) {
  auto& st = self->state;
  auto& p = st.peers[rec.node];
  bool was = p.reachable && p.rec.incarnation == rec.incarnation;
  if (!p.rec.node.empty()
      && std::tie(rec.incarnation, rec.version)
           < std::tie(p.rec.incarnation, p.rec.version)) {
    // keep the newer record we already have
  } else {
    p.rec = rec;
  }
  p.reachable = true;
  p.connecting = false;
  if (!was) {
    self->monitor(rec.node_actor);
    spdlog::info("cluster: member {} at {} is up{}", rec.node, rec.address,
                 p.ever_reached ? " again" : "");
  }
  p.ever_reached = true;
  st.joined = true;
}

std::string check_handshake(const node_state& st, const handshake& hs,
                            const member_record& rec) {
  if (hs.cluster != st.options.cluster)
    return "cluster name '" + hs.cluster + "' is not this cluster's ('"
           + st.options.cluster + "')";
  if (hs.protocol != cluster_protocol_version)
    return "protocol version " + std::to_string(hs.protocol)
           + " is not this node's " + std::to_string(cluster_protocol_version);
  if (hs.shards != st.options.shards)
    return "engine.shards=" + std::to_string(hs.shards)
           + " differs from the cluster's engine.shards="
           + std::to_string(st.options.shards);
  if (rec.node == st.self_rec.node)
    return "node name '" + rec.node + "' is taken by the node at "
           + st.self_rec.address;
  if (st.removed.count(rec.node) > 0 && !rec.held.empty())
    return "node '" + rec.node
           + "' was removed from the cluster; start it with an empty data "
             "dir to join again";
  return {};
}

void handle_refusal(node_actor self, const std::string& address,
                    const caf::error& err) {
  auto& st = self->state;
  auto why = "the member at " + address + " refused this node: "
             + self->system().render(err);
  spdlog::error("cluster: {}", why);
  if (st.hooks.refused && !st.stopping) {
    st.stopping = true;
    st.hooks.refused(why);
  }
}

void connect(node_actor self, const std::string& address) {
  auto& st = self->state;
  if (address.empty() || address == st.self_rec.address)
    return;
  for (auto& [name, p] : st.peers)
    if (p.rec.address == address) {
      if (p.connecting || p.reachable)
        return;
      p.connecting = true;
    }
  std::pair<std::string, uint16_t> hp;
  try {
    hp = split_address(address);
  } catch (const std::exception&) {
    spdlog::error("cluster: bad member address '{}'", address);
    return;
  }
  auto done_trying = [self, address] {
    for (auto& [name, p] : self->state.peers)
      if (p.rec.address == address)
        p.connecting = false;
  };
  auto mm = st.options.tls ? self->system().openssl_manager().actor_handle()
                           : self->system().middleman().actor_handle();
  self
    ->request(mm, st.options.request_timeout, caf::connect_atom::value,
              hp.first, hp.second)
    .then(
      [self, address, done_trying](const caf::node_id&,
                                   caf::strong_actor_ptr& ptr,
                                   const std::set<std::string>&) {
        auto peer_node = caf::actor_cast<caf::actor>(ptr);
        if (!peer_node) {
          done_trying();
          return;
        }
        auto& st = self->state;
        st.unreachable_logged.erase(address);
        handshake hs{st.options.cluster, cluster_protocol_version,
                     st.options.shards};
        self
          ->request(peer_node, st.options.request_timeout, hello_atom::value,
                    st.self_rec, hs)
          .then(
            [self](membership& m) {
              auto& st = self->state;
              for (auto& name : m.removed)
                if (name == st.self_rec.node && !st.self_rec.held.empty()) {
                  handle_refusal(self, "cluster",
                                 make_error(error_code::internal,
                                            "this node was removed"));
                  return;
                }
              if (!m.members.empty())
                mark_reachable(self, m.members.front());
              merge(self, m);
              save(self);
              place(self);
            },
            [self, address, done_trying](caf::error& err) {
              done_trying();
              if (carries_code(err))
                handle_refusal(self, address, err);
            });
      },
      [self, address, done_trying](caf::error& err) {
        done_trying();
        // One line per address until it answers again, not one per try.
        if (self->state.unreachable_logged.insert(address).second)
          spdlog::warn("cluster: cannot connect to {}: {} (retrying "
                       "quietly)",
                       address, self->system().render(err));
      });
}

void on_down(node_actor self, const caf::down_msg& down) {
  auto& st = self->state;
  for (auto& [name, p] : st.peers) {
    if (p.rec.node_actor.address() != down.source || !p.reachable)
      continue;
    p.reachable = false;
    spdlog::warn("cluster: member {} at {} is unreachable ({}); its shards "
                 "answer unavailable until it is back or removed",
                 name, p.rec.address, self->system().render(down.reason));
    place(self);
    return;
  }
}

void bump(node_state& st) {
  ++st.self_rec.version;
}

/// Tells every reachable member what this node knows, now (a change of its
/// own record should not wait for the next tick).
void gossip_now(node_actor self) {
  auto& st = self->state;
  auto m = snapshot_of(st);
  for (auto& [name, p] : st.peers)
    if (p.reachable)
      self->send(p.rec.node_actor, gossip_atom::value, m);
}

void on_moved(node_actor self, uint32_t s, bool now_holds) {
  auto& st = self->state;
  auto& held = st.self_rec.held;
  auto it = std::lower_bound(held.begin(), held.end(), s);
  bool had = it != held.end() && *it == s;
  if (now_holds && !had)
    held.insert(it, s);
  else if (!now_holds && had)
    held.erase(it);
  else
    return;
  bump(st);
  save(self);
  gossip_now(self);
  place(self);
  if (st.self_rec.leaving && held.empty() && !st.stopping) {
    spdlog::info("cluster: every shard handed off; leaving the cluster");
    for (auto& [name, p] : st.peers)
      if (p.reachable)
        self->send(p.rec.node_actor, bye_atom::value, st.self_rec.node);
    st.stopping = true;
    if (st.hooks.left)
      st.hooks.left();
  }
}

void on_tick(node_actor self) {
  auto& st = self->state;
  if (st.stopping)
    return;
  if (!st.joined || st.peers.empty())
    for (auto& seed : st.seeds)
      connect(self, seed);
  for (auto& [name, p] : st.peers)
    if (!p.reachable)
      connect(self, p.rec.address);
  auto m = snapshot_of(st);
  for (auto& [name, p] : st.peers)
    if (p.reachable)
      self->send(p.rec.node_actor, gossip_atom::value, m);
  place(self, true);
}

cluster_view view_of(const node_state& st) {
  cluster_view v;
  v.self = st.self_rec.node;
  v.epoch = st.epoch;
  std::map<std::string, uint32_t> owned;
  for (auto& o : st.owners)
    ++owned[o];
  auto add = [&](const member_record& rec, const char* state) {
    member_view m;
    m.node = rec.node;
    m.address = rec.address;
    m.state = rec.leaving ? "leaving" : state;
    m.shards = owned[rec.node];
    m.held = static_cast<uint32_t>(rec.held.size());
    v.members.push_back(std::move(m));
  };
  add(st.self_rec, "up");
  for (auto& [name, p] : st.peers)
    add(p.rec, p.reachable ? "up" : p.ever_reached ? "unreachable" : "joining");
  v.placement = st.owners;
  return v;
}

caf::result<std::string> on_leave(node_actor self, const std::string& name) {
  auto& st = self->state;
  if (name == st.self_rec.node) {
    bool others = std::any_of(st.peers.begin(), st.peers.end(), [](auto& kv) {
      return !kv.second.rec.leaving;
    });
    if (!others)
      return make_error(error_code::internal,
                        "the last member cannot leave (no one to hand its "
                        "shards to); stop it instead");
    if (!st.self_rec.leaving) {
      st.self_rec.leaving = true;
      bump(st);
      spdlog::info("cluster: leaving: handing off {} shards",
                   st.self_rec.held.size());
      gossip_now(self);
      place(self);
      if (st.self_rec.held.empty() && !st.stopping) {
        st.stopping = true;
        for (auto& [n, p] : st.peers)
          if (p.reachable)
            self->send(p.rec.node_actor, bye_atom::value, st.self_rec.node);
        if (st.hooks.left)
          st.hooks.left();
      }
    }
    return std::string{"leaving"};
  }
  auto it = st.peers.find(name);
  if (it == st.peers.end())
    return make_error(error_code::internal, "no member named " + name);
  if (!it->second.reachable)
    return make_error(error_code::unavailable,
                      name + " is unreachable: it cannot hand off its "
                             "shards; use 'cluster remove' to give it up");
  self->delegate(it->second.rec.node_actor, leave_atom::value, name);
  return caf::delegated<std::string>{};
}

caf::result<std::string> on_remove(node_actor self, const std::string& name) {
  auto& st = self->state;
  if (name == st.self_rec.node)
    return make_error(error_code::internal,
                      "a node cannot remove itself; use 'cluster leave'");
  auto it = st.peers.find(name);
  if (it == st.peers.end())
    return make_error(error_code::internal, "no member named " + name);
  if (it->second.reachable)
    return make_error(error_code::internal,
                      name + " is up; use 'cluster leave' to hand its shards "
                             "off");
  auto lost = it->second.rec.held.size();
  st.peers.erase(it);
  st.removed.insert(name);
  spdlog::warn("cluster: removed member {} by operator request: its {} "
               "shards start empty on their new owners; the data only it "
               "held is gone",
               name, lost);
  save(self);
  gossip_now(self);
  place(self);
  return std::string{"removed"};
}

actor_info introspect(node_actor self, bool deep) {
  auto& st = self->state;
  actor_info info;
  info.id = self->id();
  info.name = "node-" + st.self_rec.node;
  info.kind = "node";
  st.meter.fill(info, mailbox_depth(*self));
  info.applied = st.self_rec.held.size();
  if (deep) {
    boost::json::array peers;
    for (auto& [name, p] : st.peers)
      peers.push_back(boost::json::object{
        {"node", name},
        {"address", p.rec.address},
        {"reachable", p.reachable},
        {"held", p.rec.held.size()},
      });
    info.detail = boost::json::serialize(boost::json::object{
      {"cluster", st.options.cluster},
      {"address", st.self_rec.address},
      {"epoch", st.epoch},
      {"held", st.self_rec.held.size()},
      {"peers", std::move(peers)},
    });
  }
  return info;
}

caf::behavior node_impl(node_actor self, node_options options,
                        std::vector<caf::actor> shards,
                        std::vector<caf::actor> parsers, caf::actor router,
                        node_memory memory, node_hooks hooks) {
  auto& st = self->state;
  st.options = options;
  st.hooks = std::move(hooks);
  st.self_rec.node = options.name;
  st.self_rec.incarnation = now_ms();
  st.self_rec.node_actor = self;
  st.self_rec.router = router;
  st.self_rec.shards = std::move(shards);
  st.roles.resize(options.shards);
  st.parsers = std::move(parsers);
  st.router = std::move(router);
  st.removed.insert(memory.removed.begin(), memory.removed.end());
  st.seeds = options.seeds;
  for (auto& a : memory.peers)
    if (std::find(st.seeds.begin(), st.seeds.end(), a) == st.seeds.end())
      st.seeds.push_back(a);
  if (memory.found) {
    st.self_rec.held = memory.held;
  } else if (options.seeds.empty()) {
    // The first node of a new cluster holds every shard, empty.
    for (uint32_t s = 0; s < options.shards; ++s)
      st.self_rec.held.push_back(s);
  }
  std::sort(st.self_rec.held.begin(), st.self_rec.held.end());
  // Alone by design (no seeds, no known peers): nobody to wait for.
  st.joined = st.seeds.empty();
  self->set_down_handler([self](caf::down_msg& down) { on_down(self, down); });
  return {
    [=](join_atom, const std::string& address) {
      auto& st = self->state;
      st.self_rec.address = address;
      st.started = true;
      save(self);
      spdlog::info("cluster: node {} of cluster '{}' at {}, holding {} of {} "
                   "shards{}",
                   st.self_rec.node, st.options.cluster, address,
                   st.self_rec.held.size(), st.options.shards,
                   st.seeds.empty() ? "" : "; joining through the seeds");
      place(self);
      for (auto& seed : st.seeds)
        connect(self, seed);
      self->delayed_send(self, st.options.tick, tick_atom::value);
    },
    [=](hello_atom, member_record& rec,
        const handshake& hs) -> caf::result<membership> {
      return self->state.meter.measure([&]() -> caf::result<membership> {
        auto& st = self->state;
        auto why = check_handshake(st, hs, rec);
        if (!why.empty()) {
          spdlog::error("cluster: refused node '{}' at {}: {}", rec.node,
                        rec.address, why);
          return make_error(error_code::internal, why);
        }
        st.removed.erase(rec.node); // a fresh node may take the name again
        bool known = st.peers.count(rec.node) > 0;
        mark_reachable(self, rec);
        if (!known)
          save(self);
        place(self);
        return snapshot_of(st);
      });
    },
    [=](gossip_atom, const membership& m) {
      self->state.meter.measure([&] {
        auto& st = self->state;
        if (std::find(m.removed.begin(), m.removed.end(), st.self_rec.node)
            != m.removed.end()) {
          handle_refusal(self, "cluster",
                         make_error(error_code::internal,
                                    "an operator removed this node"));
          return;
        }
        if (merge(self, m)) {
          save(self);
          place(self);
        }
      });
    },
    [=](moved_atom, uint32_t s, bool now_holds) {
      self->state.meter.measure([&] { on_moved(self, s, now_holds); });
    },
    [=](bye_atom, const std::string& name) {
      auto& st = self->state;
      if (st.peers.erase(name) > 0) {
        spdlog::info("cluster: member {} left the cluster", name);
        save(self);
        place(self);
      }
    },
    [=](leave_atom, const std::string& name) -> caf::result<std::string> {
      return on_leave(self, name);
    },
    [=](remove_atom, const std::string& name) -> caf::result<std::string> {
      return on_remove(self, name);
    },
    [=](cluster_atom) -> cluster_view { return view_of(self->state); },
    [=](introspect_atom, bool deep) -> actor_info {
      return introspect(self, deep);
    },
    [=](tick_atom) {
      self->state.meter.measure([&] { on_tick(self); });
      self->delayed_send(self, self->state.options.tick, tick_atom::value);
    },
  };
}

} // namespace

node_memory load_node_memory(const node_options& options) {
  node_memory out;
  if (options.state_file.empty())
    return out;
  std::ifstream in{options.state_file};
  if (!in)
    return out;
  std::stringstream buf;
  buf << in.rdbuf();
  auto fail = [&](const std::string& why) {
    throw std::runtime_error(options.state_file + ": " + why);
  };
  boost::system::error_code ec;
  auto doc = boost::json::parse(buf.str(), ec);
  if (ec || !doc.is_object())
    fail("not a cluster state file (" + ec.message() + ")");
  auto& obj = doc.as_object();
  try {
    if (obj.at("format").to_number<int64_t>() != 1)
      fail("unknown format");
    auto cluster = std::string{obj.at("cluster").as_string()};
    auto node = std::string{obj.at("node").as_string()};
    if (cluster != options.cluster)
      fail("this data dir belongs to cluster '" + cluster
           + "', not to cluster.name='" + options.cluster + "'");
    if (node != options.name)
      fail("this data dir belongs to node '" + node
           + "', not to cluster.node-name='" + options.name + "'");
    for (auto& v : obj.at("held").as_array()) {
      auto s = v.to_number<uint32_t>();
      if (s >= options.shards)
        fail("holds shard " + std::to_string(s) + " of only "
             + std::to_string(options.shards));
      out.held.push_back(s);
    }
    for (auto& v : obj.at("members").as_array())
      out.peers.emplace_back(v.as_object().at("address").as_string());
    for (auto& v : obj.at("removed").as_array())
      out.removed.emplace_back(v.as_string());
  } catch (const std::runtime_error&) {
    throw;
  } catch (const std::exception& e) {
    fail(std::string{"damaged: "} + e.what());
  }
  out.found = true;
  return out;
}

caf::actor spawn_node(caf::actor_system& sys, node_options options,
                      std::vector<caf::actor> shards,
                      std::vector<caf::actor> parsers, caf::actor router,
                      node_memory memory, node_hooks hooks) {
  return sys.spawn(node_impl, std::move(options), std::move(shards),
                   std::move(parsers), std::move(router), std::move(memory),
                   std::move(hooks));
}

} // namespace eventide

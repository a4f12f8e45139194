#pragma once

#include <cstddef>

namespace caf {
class scheduled_actor;
} // namespace caf

namespace eventide {

/// Messages waiting in the mailbox of `self`; call only from inside it.
std::size_t mailbox_depth(caf::scheduled_actor& self);

} // namespace eventide

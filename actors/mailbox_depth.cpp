// CAF 0.17's inbox size() moves new messages into its cached queues, and
// those queues reach their list sentinel through a downcast to
// mailbox_element that UBSan's vptr check reports (halting the server
// under CI's sanitizer options) whenever /v1/actors is polled under load.
// The code is CAF's, instantiated here from its headers; this one file is
// compiled with -fno-sanitize=vptr (CMakeLists.txt), so everything else
// keeps the check.
#include "actors/mailbox_depth.hpp"

#include <caf/scheduled_actor.hpp>

namespace eventide {

std::size_t mailbox_depth(caf::scheduled_actor& self) {
  return self.mailbox().size();
}

} // namespace eventide

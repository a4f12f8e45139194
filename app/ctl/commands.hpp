#pragma once

#include "app/ctl/http_client.hpp"
#include "app/ctl/options.hpp"

namespace eventide::ctl {

/// Exit codes: 0 done, 1 the command failed (not found, rejected events,
/// a server error), 130 interrupted. transport_error escapes: the caller
/// reports "cannot reach" (exit 2 in one-shot mode).
int run_command(const ctl_options& opts, http_client& http);

} // namespace eventide::ctl

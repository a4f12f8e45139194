#pragma once

#include "app/ctl/options.hpp"

namespace eventide::ctl {

/// The prompt loop: reads commands with libedit (line editing, history in
/// ~/.eventide_ctl_history, tab completion of command names) and runs them
/// against the server named in `startup`. Returns the exit code.
int run_interactive(const ctl_options& startup);

} // namespace eventide::ctl

#pragma once
// Builds the components of the configured role, runs the event loop until
// SIGINT/SIGTERM, and tears everything down in order. Wiring only.

#include "common/options.h"

namespace dmq::modes {

// Returns the process exit code: 0 after a clean shutdown, 1 on a runtime
// failure (already logged as one line naming the cause).
int run_node(const Options& options);

}  // namespace dmq::modes

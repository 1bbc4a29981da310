#pragma once
// SIGINT and SIGTERM end a consumer's loop between requests, so it can commit
// or acknowledge what it already handled; a second signal kills the process
// as usual (SA_RESETHAND).

namespace dmq::client {

// Installs the handlers and clears any earlier request to stop.
void install_stop_signals();
bool stop_requested();

}  // namespace dmq::client

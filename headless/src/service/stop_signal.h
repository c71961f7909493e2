#pragma once
// SIGTERM and SIGINT as a flag the service loop polls: the first signal asks for a drain (finish
// the batch, write, commit, leave the group); the default action is restored, so a second one
// ends the process at once.

namespace stacklens::headless::service {

/// Installs the handlers (idempotent).
void installStopSignals();

/// True once SIGTERM or SIGINT arrived.
bool stopRequested();

}  // namespace stacklens::headless::service

// SIGINT and SIGTERM during `sculpt train`: the handler only records the signal; the training
// loop finishes its step, writes a checkpoint, says how to resume and exits with 128 + signal
// (130, 143). A second signal while that happens takes the default action (stops at once).
#pragma once

namespace sculpt::cli {

// Installs the handlers (for the rest of the process).
void catch_stop_signals();
// The signal received since catch_stop_signals(), or 0.
int stop_signal();

}  // namespace sculpt::cli

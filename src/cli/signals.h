// SIGINT and SIGTERM. No asynchronous handler runs: main() blocks both signals before any
// thread starts (every thread inherits the mask) and one thread waits for them with sigwait.
// A handler would push its frame onto whichever thread the signal lands on, in the middle of
// any kernel; that corrupted the heap of about one `sculpt train` in twenty here.
// Outside training a signal stops the process at once, as by default. During `sculpt train`
// the first one is only recorded: the training loop finishes its step, writes a checkpoint,
// says how to resume and exits with 128 + signal (130, 143); a second one stops at once.
#pragma once

namespace sculpt::cli {

// From main(), before anything starts a thread.
void start_signal_thread();
// From here on the first SIGINT/SIGTERM is recorded instead of stopping the process.
void catch_stop_signals();
// The signal recorded since catch_stop_signals(), or 0.
int stop_signal();

}  // namespace sculpt::cli

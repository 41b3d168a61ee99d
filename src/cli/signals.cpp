#include "cli/signals.h"

#include <pthread.h>
#include <signal.h>

#include <atomic>
#include <csignal>
#include <thread>

namespace sculpt::cli {

namespace {

std::atomic<bool> g_catching{false};
std::atomic<int> g_signal{0};

sigset_t stop_set() {
  sigset_t s;
  sigemptyset(&s);
  sigaddset(&s, SIGINT);
  sigaddset(&s, SIGTERM);
  return s;
}

[[noreturn]] void wait_for_signals() {
  const sigset_t set = stop_set();
  for (;;) {
    int sig = 0;
    if (sigwait(&set, &sig) != 0) continue;
    int none = 0;
    if (g_catching.load() && g_signal.compare_exchange_strong(none, sig)) continue;
    // Not training, or the second signal: the default action, now. raise() targets this
    // thread, the only one where the signal is unblocked.
    std::signal(sig, SIG_DFL);
    pthread_sigmask(SIG_UNBLOCK, &set, nullptr);
    ::raise(sig);
  }
}

}  // namespace

void start_signal_thread() {
  const sigset_t set = stop_set();
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
  std::thread(wait_for_signals).detach();
}

void catch_stop_signals() { g_catching.store(true); }

int stop_signal() { return g_signal.load(); }

}  // namespace sculpt::cli

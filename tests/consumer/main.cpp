// Uses the installed library through its public headers: one ParamStore entry, finalized, sized.
// Returns non-zero (and says why) when the installed library does not behave.
#include <cstdio>

#include "core/param_store.h"

int main() {
  sculpt::ParamStore ps;
  const size_t w = ps.add("fc1.weight", {3, 5});
  ps.finalize();
  if (ps.count() != 1 || ps.num_params() != 15 || ps.entry(w).size != 15) {
    std::fprintf(stderr, "consumer: expected 1 entry of 15 parameters, got %zu entries, %lld\n",
                 ps.count(), static_cast<long long>(ps.num_params()));
    return 1;
  }
  ps.value(w)[14] = 2.5f;  // the arena must really hold 15 floats
  if (ps.value_span(w)[14] != 2.5f || ps.arena_size() < 15) {
    std::fprintf(stderr, "consumer: the parameter arena is too small\n");
    return 1;
  }
  std::printf("consumer: ok (%lld parameters)\n", static_cast<long long>(ps.num_params()));
  return 0;
}

// RunContext: what a run carries instead of globals: the seed, the thread count and the
// random streams. Same seed and same threads give the same bits.
#pragma once

#include <cstdint>

#include "core/rng.h"

namespace sculpt {

struct RunContext {
  uint64_t seed = 42;
  int threads = 0;  // 0: every core the machine gives us
  Rng init_rng;     // parameter initialisation
  Rng data_rng;     // shuffling, splits
  Rng dropout_rng;  // dropout masks (keys for counter_uniform)

  // Seeds each stream from `seed` and applies the thread count to OpenMP.
  static RunContext make(uint64_t seed, int64_t threads);
};

}  // namespace sculpt

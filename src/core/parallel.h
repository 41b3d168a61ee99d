// Threading: OpenMP everywhere, the thread count set once from the RunContext. Loops go
// parallel only above a size threshold so small tensors do not pay the fork/join cost.
#pragma once

#include <omp.h>

#include <cstdint>

namespace sculpt {

// Element-wise loops below this many elements run on one thread.
inline constexpr int64_t kParallelThreshold = 1 << 15;

// Sets the OpenMP thread count (n <= 0: all cores); returns the count in force.
inline int set_threads(int n) {
  if (n > 0) omp_set_num_threads(n);
  return omp_get_max_threads();
}

inline int num_threads() { return omp_get_max_threads(); }

}  // namespace sculpt

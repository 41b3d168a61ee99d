// Threading: OpenMP everywhere, the thread count set once from the RunContext. Loops go
// parallel only above a size threshold so small tensors do not pay the fork/join cost.
#pragma once

#include <omp.h>

#include <algorithm>
#include <cstdint>
#include <string>

#include "core/error.h"
#include "core/limits.h"

namespace sculpt {

// Element-wise loops below this many elements run on one thread.
inline constexpr int64_t kParallelThreshold = 1 << 15;

// Sets the OpenMP thread count (0: all cores); returns the count in force. ConfigError naming
// `where` (the recipe key or the option) for a count outside [0, kMaxThreads].
inline int set_threads(int64_t n, const std::string& where = "threads") {
  SCULPT_CHECK(
      n >= 0 && n <= kMaxThreads, ConfigError,
      fmt::format("the thread count must be in [0, {}] (0: every core), got {}", kMaxThreads, n),
      where, "leave it at 0 to use every core");
  if (n > 0) omp_set_num_threads(static_cast<int>(n));
  return omp_get_max_threads();
}

inline int num_threads() { return omp_get_max_threads(); }

// Runs body(begin, end) over [0, size), split statically across threads in thread order when
// the total work (in elements; default size) reaches kParallelThreshold and no parallel region
// is active; else on this thread in one piece.
template <class Body>
inline void for_range(int64_t size, Body body, int64_t work = -1) {
  if (work < 0) work = size;
  if (work < kParallelThreshold || omp_in_parallel() || omp_get_max_threads() == 1) {
    body(int64_t{0}, size);
    return;
  }
#pragma omp parallel
  {
    const int64_t t = omp_get_thread_num(), nt = omp_get_num_threads();
    const int64_t chunk = (size + nt - 1) / nt;
    const int64_t b = std::min(size, t * chunk), e = std::min(size, b + chunk);
    body(b, e);
  }
}

}  // namespace sculpt

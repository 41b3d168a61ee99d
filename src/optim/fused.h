// The fused pass shared by every optimizer: one OpenMP region over the arena (when it is big
// enough), each thread taking a static share of every unfrozen tensor in whole 16-float blocks,
// so the result never depends on the thread count and every chunk starts 64-byte aligned.
#pragma once

#include <algorithm>
#include <cstdint>
#include <vector>

#include "core/parallel.h"
#include "core/param_store.h"
#include "optim/optimizer.h"

namespace sculpt::optim {

// Calls body(const TensorStep&, begin, end) for arena ranges [begin, end) covering every
// unfrozen tensor exactly once. Ranges of one tensor never overlap; no barrier between tensors.
template <class Body>
void fused_pass(const ParamStore& ps, const std::vector<TensorStep>& steps, Body&& body) {
#pragma omp parallel if (ps.arena_size() > kParallelThreshold)
  {
    const int64_t nt = omp_get_num_threads(), t = omp_get_thread_num();
    for (size_t i = 0; i < ps.count(); ++i) {
      if (steps[i].frozen) continue;
      const ParamEntry& e = ps.entry(i);
      const int64_t per = (e.size + 16 * nt - 1) / (16 * nt) * 16;
      const int64_t lo = std::min(e.size, t * per), hi = std::min(e.size, (t + 1) * per);
      if (lo < hi) body(steps[i], e.offset + lo, e.offset + hi);
    }
  }
}

}  // namespace sculpt::optim

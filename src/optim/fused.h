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
// A tensor with a mask (TensorStep::mask, pruning) has its weights multiplied by it right after
// the body wrote them, range by range while they are in the cache (frozen ones too: a pruned
// weight is zero whether it trains or not).
template <class Body>
void fused_pass(ParamStore& ps, const std::vector<TensorStep>& steps, Body&& body) {
  float* __restrict w = ps.values().data();
#pragma omp parallel if (ps.arena_size() > kParallelThreshold)
  {
    const int64_t nt = omp_get_num_threads(), t = omp_get_thread_num();
    for (size_t i = 0; i < ps.count(); ++i) {
      const TensorStep& s = steps[i];
      if (s.frozen && !s.mask) continue;
      const ParamEntry& e = ps.entry(i);
      const int64_t per = (e.size + 16 * nt - 1) / (16 * nt) * 16;
      const int64_t lo = std::min(e.size, t * per), hi = std::min(e.size, (t + 1) * per);
      if (lo >= hi) continue;
      if (!s.frozen) body(s, e.offset + lo, e.offset + hi);
      if (!s.mask) continue;
      const uint8_t* __restrict k = s.mask;
#pragma omp simd
      for (int64_t j = e.offset + lo; j < e.offset + hi; ++j) w[j] *= static_cast<float>(k[j]);
    }
  }
}

}  // namespace sculpt::optim

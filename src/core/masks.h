// Masks: one 0/1 array parallel to the parameter arena. An invariant of the optimizer: masked
// gradients are zeroed before the update and masked weights after it, so neither momentum nor
// weight decay can revive a pruned weight. Empty masks (nothing pruned) cost nothing.
#pragma once

#include <span>

#include "core/parallel.h"
#include "core/param_store.h"
#include "core/tensor.h"

namespace sculpt {

class Masks {
 public:
  bool empty() const { return keep_.empty(); }
  // Allocates an all-ones mask over the arena.
  void init(const ParamStore& ps) { keep_.assign(static_cast<size_t>(ps.arena_size()), 1.0f); }
  AlignedVector<float>& keep() { return keep_; }
  const float* keep_data() const { return keep_.data(); }

  void apply_to_grads(ParamStore& ps) const { multiply(ps.grads()); }
  void apply_to_weights(ParamStore& ps) const { multiply(ps.values()); }

 private:
  void multiply(std::span<float> a) const {
    if (keep_.empty()) return;
    const int64_t n = static_cast<int64_t>(a.size());
    float* p = a.data();
    const float* k = keep_.data();
#pragma omp parallel for simd if (n > kParallelThreshold)
    for (int64_t i = 0; i < n; ++i) p[i] *= k[i];
  }
  AlignedVector<float> keep_;
};

}  // namespace sculpt

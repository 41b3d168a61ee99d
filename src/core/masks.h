// Masks: one 0/1 array parallel to the parameter arena. An invariant of the optimizer: masked
// gradients are zeroed before the update and masked weights after it, so neither momentum nor
// weight decay can revive a pruned weight. Empty masks (nothing pruned) cost nothing.
#pragma once

#include <cstdint>
#include <span>

#include "core/parallel.h"
#include "core/param_store.h"
#include "core/tensor.h"

namespace sculpt {

class Masks {
 public:
  bool empty() const { return keep_.empty(); }
  // Allocates an all-ones mask over the arena.
  void init(const ParamStore& ps) {
    keep_.assign(static_cast<size_t>(ps.arena_size()), 1.0f);
    stale_ = true;
  }
  // For changing the mask: the bytes() view is rebuilt at its next use, so finish the changes
  // before the next training step (do not keep the reference across steps).
  AlignedVector<float>& keep() {
    stale_ = true;
    return keep_;
  }
  const float* keep_data() const { return keep_.data(); }
  // The same mask as one byte per entry (1 keep, 0 pruned): what the training step's passes
  // read, a quarter of the memory traffic of the floats. Rebuilt after keep() was taken.
  const uint8_t* bytes() const {
    if (stale_) {
      bytes_.resize(keep_.size());
      for (size_t i = 0; i < keep_.size(); ++i) bytes_[i] = keep_[i] != 0.0f;
      stale_ = false;
    }
    return bytes_.data();
  }

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
  mutable AlignedVector<uint8_t> bytes_;
  mutable bool stale_ = true;
};

}  // namespace sculpt

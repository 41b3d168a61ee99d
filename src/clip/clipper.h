// Clipper: rescales or clips the gradient arena after accumulation, before the optimizer, and
// reports what it did. The foundation runs without clipping (NoClip); by-value, by-norm and
// global-norm clippers plug in behind the same interface.
#pragma once

#include "core/param_store.h"

namespace sculpt::clip {

struct ClipReport {
  double norm_before = 0.0;  // global L2 norm of the gradients before clipping (0 if unmeasured)
  double scale = 1.0;        // factor applied (1: untouched)
  int64_t clipped = 0;       // elements (by value) or tensors (by norm) that were changed
};

class Clipper {
 public:
  virtual ~Clipper() = default;
  // Ensures: after apply, the clipper's norm is <= its limit; below the limit nothing changes.
  virtual ClipReport apply(ParamStore& ps) = 0;
};

class NoClip final : public Clipper {
 public:
  ClipReport apply(ParamStore&) override { return {}; }
};

}  // namespace sculpt::clip

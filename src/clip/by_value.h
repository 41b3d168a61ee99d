// Clipping by value: every gradient element is clamped to [-max_value, max_value]
// (torch.nn.utils.clip_grad_value_). Changes the direction of the gradient, not only its length.
#pragma once

#include "clip/clipper.h"

namespace sculpt::clip {

struct ValueConfig {
  double max_value = 1.0;  // c > 0

  static const std::vector<Field<ValueConfig>>& fields();
};

class ValueClipper final : public Clipper {
 public:
  explicit ValueClipper(ValueConfig cfg) : cfg_(cfg) {}
  // One pass: clamps, and sums g^2 before and after per block (norm_before, norm_after).
  ClipReport apply(ParamStore& ps) override;

 private:
  struct Sums {
    double before = 0.0, after = 0.0;
    int64_t changed = 0;
  };
  ValueConfig cfg_;
  ArenaNorms norms_;        // the blocks
  std::vector<Sums> sums_;  // per block
};

}  // namespace sculpt::clip

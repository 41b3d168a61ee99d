// Lion (EvoLved Sign Momentum):
//   c = b1 * m + (1 - b1) * g;   w = keep * w - lr * sign(c);   m = b2 * m + (1 - b2) * g
// (g includes the l2 term when decay_style = "l2"; the default is decoupled, as in the paper).
// Chen et al., "Symbolic Discovery of Optimization Algorithms", NeurIPS 2023.
#pragma once

#include "core/tensor.h"
#include "optim/optimizer.h"

namespace sculpt::optim {

struct LionConfig : OptimCommon {
  double beta1 = 0.9;
  double beta2 = 0.99;
  LionConfig() {
    lr = 1e-4;
    decay_style = DecayStyle::kDecoupled;
  }
  static const std::vector<Field<LionConfig>>& fields();
};

class Lion final : public OptimizerWith<LionConfig> {
 public:
  explicit Lion(LionConfig cfg);

 private:
  void update(ParamStore& ps, const std::vector<TensorStep>& steps, int64_t step) override;

  AlignedVector<float> m_;
};

}  // namespace sculpt::optim

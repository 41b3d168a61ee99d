// AdaGrad, as torch.optim.Adagrad (t = step, counted from 0):
//   d = g + l2 * w;   sum = sum + d^2
//   w = keep * w - lr / (1 + t * lr_decay) * d / (sqrt(sum) + eps)
// Duchi, Hazan & Singer, "Adaptive Subgradient Methods for Online Learning and Stochastic
// Optimization", JMLR 2011.
#pragma once

#include "core/tensor.h"
#include "optim/optimizer.h"

namespace sculpt::optim {

struct AdagradConfig : OptimCommon {
  double lr_decay = 0.0;
  double initial_accumulator = 0.0;
  double eps = 1e-10;
  AdagradConfig() { lr = 0.01; }
  static const std::vector<Field<AdagradConfig>>& fields();
};

class Adagrad final : public OptimizerWith<AdagradConfig> {
 public:
  explicit Adagrad(AdagradConfig cfg);

 private:
  void update(ParamStore& ps, const std::vector<TensorStep>& steps, int64_t step) override;

  AlignedVector<float> sum_;
};

}  // namespace sculpt::optim

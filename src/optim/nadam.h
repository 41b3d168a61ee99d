// NAdam, as torch.optim.NAdam (t = step + 1, psi = momentum_decay):
//   mu_t = b1 * (1 - 0.5 * 0.96^(t * psi));   P_t = mu_1 * ... * mu_t
//   d = g + l2 * w;   m = b1 * m + (1 - b1) * d;   v = b2 * v + (1 - b2) * d^2
//   den = sqrt(v / (1 - b2^t)) + eps
//   w = keep * w - lr * (1 - mu_t) / (1 - P_t) * d / den
//                - lr * mu_{t+1} / (1 - P_t * mu_{t+1}) * m / den
// Dozat, "Incorporating Nesterov Momentum into Adam", ICLR workshop 2016.
#pragma once

#include "core/tensor.h"
#include "optim/adam.h"

namespace sculpt::optim {

struct NadamConfig : OptimCommon, AdamMoments {
  double momentum_decay = 4e-3;
  NadamConfig() { lr = 2e-3; }
  static const std::vector<Field<NadamConfig>>& fields();
};

class Nadam final : public OptimizerWith<NadamConfig> {
 public:
  explicit Nadam(NadamConfig cfg);

 private:
  void start_state(const ParamStore& ps) override;  // empties the P_t cache below
  void update(ParamStore& ps, const std::vector<TensorStep>& steps, int64_t step) override;

  double mu(int64_t t) const;  // mu_t, t counted from 1
  AlignedVector<float> m_, v_;
  // P_t for t = product_step_: a cache of a pure function of the step, so resume needs no state.
  int64_t product_step_ = 0;
  double product_ = 1.0;
};

}  // namespace sculpt::optim

// Lookahead around SGD: Zhang, Lucas, Hinton & Ba, "Lookahead Optimizer: k steps forward,
// 1 step back", NeurIPS 2019 (Algorithm 1). The fast weights w take SGD's step (optim/sgd.h,
// with every option of it); the slow weights phi, a state array, follow them every k steps:
//   w <- SGD step (its momentum buffer carries on across synchronisations)
//   after steps t = k, 2k, ... (t counted from 1):  phi <- phi + alpha * (w - phi);  w <- phi
// phi starts as the weights the optimizer is initialised with (Optimizer::init), is saved in
// checkpoints as "opt.slow_weights.<param>", and is zeroed under a pruning mask like every
// state array (a masked weight is 0 and stays 0, so its slow weight stays 0 too).
#pragma once

#include "core/tensor.h"
#include "optim/sgd.h"

namespace sculpt::optim {

struct LookaheadConfig : SgdConfig {
  int64_t k = 5;       // fast steps per synchronisation
  double alpha = 0.5;  // slow step size
  LookaheadConfig() { momentum = 0.9; }
  static const std::vector<Field<LookaheadConfig>>& fields();
};

class Lookahead final : public Sgd {
 public:
  // State: SGD's momentum (when > 0), then "slow_weights".
  explicit Lookahead(LookaheadConfig cfg);

 private:
  void start_state(const ParamStore& ps) override;
  void update(ParamStore& ps, const std::vector<TensorStep>& steps, int64_t step) override;

  int64_t k_;
  double alpha_;
  AlignedVector<float> slow_;
};

}  // namespace sculpt::optim

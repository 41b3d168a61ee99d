// SGD with optional momentum, dampening, Nesterov and L2 weight decay, as torch.optim.SGD:
//   g = grad + wd * w                     (wd only on entries flagged `decays`)
//   v = g                                 on the first step, else v = mu * v + (1 - dampening) * g
//   d = g + mu * v  (Nesterov)  or  d = v
//   w = w - lr * d
// Sutskever et al., "On the importance of initialization and momentum in deep learning", 2013.
#pragma once

#include "core/tensor.h"
#include "optim/optimizer.h"

namespace sculpt::optim {

struct SgdConfig {
  double momentum = 0.0;
  double dampening = 0.0;
  bool nesterov = false;
  double weight_decay = 0.0;
};

class Sgd final : public Optimizer {
 public:
  explicit Sgd(SgdConfig cfg);
  std::string_view kind() const override { return "sgd"; }
  void init(const ParamStore& ps) override;
  void step(ParamStore& ps, double lr, int64_t step) override;
  std::vector<StateArray> state() override;

 private:
  SgdConfig cfg_;
  AlignedVector<float> velocity_;
};

}  // namespace sculpt::optim

// Adam, AdamW and AMSGrad, as torch.optim.Adam / AdamW (t = step + 1):
//   d = g + l2 * w
//   m = b1 * m + (1 - b1) * d            v = b2 * v + (1 - b2) * d^2
//   AMSGrad: vmax = max(vmax, v) and vmax replaces v below
//   w = keep * w - lr / (1 - b1^t) * m / (sqrt(v) / sqrt(1 - b2^t) + eps)
// Kingma & Ba, "Adam: A Method for Stochastic Optimization", 2015; AdamW: Loshchilov & Hutter,
// "Decoupled Weight Decay Regularization", 2019; AMSGrad: Reddi et al., "On the Convergence of
// Adam and Beyond", 2018.
#pragma once

#include "core/tensor.h"
#include "optim/optimizer.h"

namespace sculpt::optim {

struct AdamConfig : OptimCommon {
  double beta1 = 0.9;
  double beta2 = 0.999;
  double eps = 1e-8;
  bool amsgrad = false;
  static const std::vector<Field<AdamConfig>>& fields();
};

// AdamW: Adam whose weight decay defaults to decoupled, 0.01 (PyTorch's AdamW).
struct AdamWConfig : AdamConfig {
  AdamWConfig() {
    weight_decay = 0.01;
    decay_style = DecayStyle::kDecoupled;
  }
  static const std::vector<Field<AdamWConfig>>& fields();
};

// AMSGrad: Adam with amsgrad on by default.
struct AmsgradConfig : AdamConfig {
  AmsgradConfig() { amsgrad = true; }
  static const std::vector<Field<AmsgradConfig>>& fields();
};

class Adam final : public Optimizer {
 public:
  Adam(std::string kind, AdamConfig cfg);
  std::string_view kind() const override { return kind_; }
  std::vector<StateArray> state() override;
  double* momentum_slot() override { return &cfg_.beta1; }

 protected:
  void reset_state(int64_t n) override;
  void update(ParamStore& ps, const std::vector<TensorStep>& steps, int64_t step) override;

 private:
  std::string kind_;
  AdamConfig cfg_;
  AlignedVector<float> m_, v_, vmax_;
};

}  // namespace sculpt::optim

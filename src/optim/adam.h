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
#include "optim/common_fields.h"
#include "optim/optimizer.h"

namespace sculpt::optim {

// The moment options Adam and NAdam (optim/nadam.h) share.
struct AdamMoments {
  double beta1 = 0.9;
  double beta2 = 0.999;
  double eps = 1e-8;
};

// The moment options' fields for a config deriving from AdamMoments, then `more`, between lr and
// the weight decay keys.
template <class C>
std::vector<Field<C>> moment_fields(std::vector<Field<C>> more) {
  std::vector<Field<C>> own = {
      {"beta1", &C::beta1, half_open(0, 1), "decay rate of the first moment (mean of g)"},
      {"beta2", &C::beta2, half_open(0, 1), "decay rate of the second moment (mean of g^2)"},
      {"eps", &C::eps, greater_than(0), "added to the denominator"},
  };
  for (Field<C>& f : more) own.push_back(std::move(f));
  return with_common<C>(std::move(own));
}

struct AdamConfig : OptimCommon, AdamMoments {
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

class Adam final : public OptimizerWith<AdamConfig> {
 public:
  // `kind`: "adam", "adamw" or "amsgrad", the row that built it.
  Adam(std::string kind, AdamConfig cfg);

 private:
  void update(ParamStore& ps, const std::vector<TensorStep>& steps, int64_t step) override;

  AlignedVector<float> m_, v_, vmax_;
};

}  // namespace sculpt::optim

// RMSprop, as torch.optim.RMSprop:
//   d = g + l2 * w;   sq = alpha * sq + (1 - alpha) * d^2
//   centered: ga = alpha * ga + (1 - alpha) * d;  den = sqrt(sq - ga^2) + eps
//   else den = sqrt(sq) + eps
//   momentum > 0: buf = momentum * buf + d / den;  w = keep * w - lr * buf
//   else          w = keep * w - lr * d / den
// Hinton, Srivastava & Swersky, "Neural Networks for Machine Learning", lecture 6e, 2012;
// centered form: Graves, "Generating Sequences With Recurrent Neural Networks", 2013.
#pragma once

#include "core/tensor.h"
#include "optim/optimizer.h"

namespace sculpt::optim {

struct RmspropConfig : OptimCommon {
  double alpha = 0.99;
  double eps = 1e-8;
  double momentum = 0.0;
  bool centered = false;
  RmspropConfig() { lr = 0.01; }
  static const std::vector<Field<RmspropConfig>>& fields();
};

class Rmsprop final : public OptimizerWith<RmspropConfig> {
 public:
  explicit Rmsprop(RmspropConfig cfg);

 private:
  void update(ParamStore& ps, const std::vector<TensorStep>& steps, int64_t step) override;

  AlignedVector<float> sq_, avg_, buf_;
};

}  // namespace sculpt::optim

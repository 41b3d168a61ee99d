// Dropout(p): in training, each element is kept with probability 1 - p and scaled by
// 1 / (1 - p); in evaluation it is the identity. The keep decision for element i of the batch
// is counter_uniform(pass.key ^ salt, i) >= p, so it does not depend on the thread count.
#pragma once

#include <cstdint>

#include "core/tensor.h"
#include "nn/layers/shape_preserving.h"

namespace sculpt::nn {

class Dropout : public ShapePreserving {
 public:
  Dropout(std::string name, double p);
  std::string_view kind() const override { return "dropout"; }
  LayerTraits traits() const override {
    return {.keeps_channels = true, .elementwise = true, .eval_identity = true};
  }
  std::string describe() const override;
  void reserve(int64_t max_batch) override;
  int64_t scratch_floats(int64_t max_batch, int) const override {
    return mul_sat(max_batch, width());
  }
  void forward(ParamStore& ps, const float* x, float* y, int64_t n, const Pass& pass) override;
  void backward(ParamStore& ps, const float* x, const float* y, const float* dy, float* dx,
                int64_t n) override;

  double p() const { return p_; }
  // Mask of the last training forward: 0 or 1 / (1 - p) per element.
  const float* mask() const { return mask_.data(); }

 private:
  double p_;
  uint64_t salt_;  // from the layer name, so two dropout layers draw different masks
  bool last_train_ = false;
  AlignedVector<float> mask_;  // [max_batch, features]
};

}  // namespace sculpt::nn

// ReLU: y = max(x, 0); dx = dy * [y > 0] (the derivative is taken from y).
#pragma once

#include "nn/layers/shape_preserving.h"

namespace sculpt::nn {

class ReLU : public ShapePreserving {
 public:
  explicit ReLU(std::string name) : ShapePreserving(std::move(name), "ReLU") {}
  std::string_view kind() const override { return "relu"; }
  LayerTraits traits() const override {
    return {.keeps_channels = true, .elementwise = true, .relu = true};
  }
  void forward(ParamStore& ps, const float* x, float* y, int64_t n, const Pass& pass) override;
  void backward(ParamStore& ps, const float* x, const float* y, const float* dy, float* dx,
                int64_t n) override;
};

}  // namespace sculpt::nn

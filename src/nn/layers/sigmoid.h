// Sigmoid: y = 1 / (1 + exp(-x)); dx = dy * y * (1 - y) (the derivative is taken from y).
#pragma once

#include "nn/layers/shape_preserving.h"

namespace sculpt::nn {

class Sigmoid : public ShapePreserving {
 public:
  explicit Sigmoid(std::string name) : ShapePreserving(std::move(name), "Sigmoid") {}
  std::string_view kind() const override { return "sigmoid"; }
  LayerTraits traits() const override { return {.keeps_channels = true, .elementwise = true}; }
  void forward(ParamStore& ps, const float* x, float* y, int64_t n, const Pass& pass) override;
  void backward(ParamStore& ps, const float* x, const float* y, const float* dy, float* dx,
                int64_t n) override;
};

}  // namespace sculpt::nn

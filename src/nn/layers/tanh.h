// Tanh: y = tanh(x); dx = dy * (1 - y^2) (the derivative is taken from y).
#pragma once

#include "nn/layers/shape_preserving.h"

namespace sculpt::nn {

class Tanh : public ShapePreserving {
 public:
  explicit Tanh(std::string name) : ShapePreserving(std::move(name), "Tanh") {}
  std::string_view kind() const override { return "tanh"; }
  LayerTraits traits() const override { return {.keeps_channels = true, .elementwise = true}; }
  void forward(ParamStore& ps, const float* x, float* y, int64_t n, const Pass& pass) override;
  void backward(ParamStore& ps, const float* x, const float* y, const float* dy, float* dx,
                int64_t n) override;
};

}  // namespace sculpt::nn

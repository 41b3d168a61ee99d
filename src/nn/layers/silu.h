// SiLU (swish): y = x * s(x) with s the logistic function; dx = dy * s * (1 + x * (1 - s)) (the
// derivative needs x, so backward recomputes s from it).
#pragma once

#include "nn/layers/shape_preserving.h"

namespace sculpt::nn {

class SiLU : public ShapePreserving {
 public:
  explicit SiLU(std::string name) : ShapePreserving(std::move(name), "SiLU") {}
  std::string_view kind() const override { return "silu"; }
  LayerTraits traits() const override { return {.keeps_channels = true, .elementwise = true}; }
  void forward(ParamStore& ps, const float* x, float* y, int64_t n, const Pass& pass) override;
  void backward(ParamStore& ps, const float* x, const float* y, const float* dy, float* dx,
                int64_t n) override;
};

}  // namespace sculpt::nn

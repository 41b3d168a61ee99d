// Flatten: [n, d1, d2, ...] -> [n, d1*d2*...]; the data is copied unchanged.
#pragma once

#include "nn/layer.h"

namespace sculpt::nn {

class Flatten : public Layer {
 public:
  explicit Flatten(std::string name) : Layer(std::move(name)) {}
  std::string_view kind() const override { return "flatten"; }
  LayerTraits traits() const override {
    return {.keeps_channels = true, .eval_identity = true, .view = true};
  }
  std::string describe() const override;
  Shape bind(const Shape& in) override;
  void forward(ParamStore& ps, const float* x, float* y, int64_t n, const Pass& pass) override;
  void backward(ParamStore& ps, const float* x, const float* y, const float* dy, float* dx,
                int64_t n) override;
};

}  // namespace sculpt::nn

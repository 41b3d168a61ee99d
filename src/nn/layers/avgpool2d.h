// AvgPool2d: x [n, c, h, w] -> y [n, c, oh, ow], PyTorch semantics (ceil_mode=False,
// count_include_pad=True: the divisor is always kernel*kernel).
#pragma once

#include <cstdint>

#include "kernels/pooling.h"
#include "nn/layer.h"

namespace sculpt::nn {

class AvgPool2d : public Layer {
 public:
  AvgPool2d(std::string name, int64_t kernel, int64_t stride, int64_t padding = 0);

  std::string_view kind() const override { return "avgpool2d"; }
  LayerTraits traits() const override { return {.keeps_channels = true}; }
  std::string describe() const override;
  Shape bind(const Shape& in) override;
  void forward(ParamStore& ps, const float* x, float* y, int64_t n, const Pass& pass) override;
  void backward(ParamStore& ps, const float* x, const float* y, const float* dy, float* dx,
                int64_t n) override;

 private:
  kernels::PoolGeometry g_;
};

}  // namespace sculpt::nn

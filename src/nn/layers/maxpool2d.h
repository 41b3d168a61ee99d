// MaxPool2d: x [n, c, h, w] -> y [n, c, oh, ow], PyTorch semantics (ceil_mode=False, -inf
// padding, padding <= kernel/2). Forward stores the argmax so backward is a scatter.
#pragma once

#include <cstdint>
#include <vector>

#include "kernels/pooling.h"
#include "nn/layer.h"

namespace sculpt::nn {

class MaxPool2d : public Layer {
 public:
  MaxPool2d(std::string name, int64_t kernel, int64_t stride, int64_t padding = 0);

  std::string_view kind() const override { return "maxpool2d"; }
  LayerTraits traits() const override { return {.keeps_channels = true}; }
  std::string describe() const override;
  Shape bind(const Shape& in) override;
  void reserve(int64_t max_batch) override;
  int64_t scratch_floats(int64_t max_batch, int) const override {
    return mul_sat(max_batch, numel(out_));  // argmax indices, 4 bytes each
  }
  void forward(ParamStore& ps, const float* x, float* y, int64_t n, const Pass& pass) override;
  void backward(ParamStore& ps, const float* x, const float* y, const float* dy, float* dx,
                int64_t n) override;

 private:
  kernels::PoolGeometry g_;
  std::vector<int32_t> argmax_;  // [max_batch, c, oh, ow]
};

}  // namespace sculpt::nn

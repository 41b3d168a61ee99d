// 2-D pooling layers: x [n, c, h, w] -> y [n, c, oh, ow], PyTorch semantics (ceil_mode=False).
//   MaxPool2d: -inf padding, padding <= kernel/2; forward stores the argmax so backward is a
//              scatter.
//   AvgPool2d: count_include_pad=True: the divisor is always kernel*kernel.
// and global average pooling (below).
// Both share Pool2d: the window, its checks in bind(), the description and the traits.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "kernels/pooling.h"
#include "nn/layer.h"

namespace sculpt::nn {

class Pool2d : public Layer {
 public:
  std::string_view kind() const override { return kind_; }
  LayerTraits traits() const override { return {.keeps_channels = true}; }
  std::string describe() const override;
  // Validates the input (an image [c, h, w]) and the window against it.
  Shape bind(const Shape& in) override;

 protected:
  // kind: "maxpool2d"; title: "MaxPool2d".
  Pool2d(std::string name, const char* kind, const char* title, int64_t kernel, int64_t stride,
         int64_t padding);
  kernels::PoolGeometry g_;

 private:
  const char* kind_;
  const char* title_;
};

class MaxPool2d final : public Pool2d {
 public:
  MaxPool2d(std::string name, int64_t kernel, int64_t stride, int64_t padding = 0)
      : Pool2d(std::move(name), "maxpool2d", "MaxPool2d", kernel, stride, padding) {}
  LayerTraits traits() const override { return {.keeps_channels = true, .maxpool = &g_}; }
  void reserve(int64_t max_batch) override;
  int64_t scratch_floats(int64_t max_batch, int) const override {
    return mul_sat(max_batch, numel(out_));  // argmax indices, 4 bytes each
  }
  void forward(ParamStore& ps, const float* x, float* y, int64_t n, const Pass& pass) override;
  void backward(ParamStore& ps, const float* x, const float* y, const float* dy, float* dx,
                int64_t n) override;

 private:
  std::vector<int32_t> argmax_;  // [max_batch, c, oh, ow]
};

// Nothing is kept between forward and backward.
class AvgPool2d final : public Pool2d {
 public:
  AvgPool2d(std::string name, int64_t kernel, int64_t stride, int64_t padding = 0)
      : Pool2d(std::move(name), "avgpool2d", "AvgPool2d", kernel, stride, padding) {}
  void forward(ParamStore& ps, const float* x, float* y, int64_t n, const Pass& pass) override;
  void backward(ParamStore& ps, const float* x, const float* y, const float* dy, float* dx,
                int64_t n) override;
};

// GlobalAvgPool2d: x [n, c, h, w] -> y [n, c], the mean of each channel's plane (torch's
// AdaptiveAvgPool2d(1) followed by flatten). Output c reads channel c alone, so structured
// pruning follows channels through it.
class GlobalAvgPool2d final : public Layer {
 public:
  explicit GlobalAvgPool2d(std::string name) : Layer(std::move(name)) {}
  std::string_view kind() const override { return "globalavgpool"; }
  LayerTraits traits() const override { return {.keeps_channels = true}; }
  std::string describe() const override;
  Shape bind(const Shape& in) override;
  void forward(ParamStore& ps, const float* x, float* y, int64_t n, const Pass& pass) override;
  void backward(ParamStore& ps, const float* x, const float* y, const float* dy, float* dx,
                int64_t n) override;

 private:
  int64_t plane_ = 0;  // h * w
};

}  // namespace sculpt::nn

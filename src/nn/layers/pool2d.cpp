// The pooling layers over kernels::maxpool2d_* and kernels::avgpool2d_*.
#include "nn/layers/pool2d.h"

#include <fmt/format.h>

#include "core/error.h"

namespace sculpt::nn {

Pool2d::Pool2d(std::string name, const char* kind, const char* title, int64_t kernel,
               int64_t stride, int64_t padding)
    : Layer(std::move(name)), kind_(kind), title_(title) {
  g_.k = kernel;
  g_.stride = stride;
  g_.pad = padding;
}

std::string Pool2d::describe() const {
  return fmt::format("{} {}(kernel {}, stride {}, padding {})", name(), title_, g_.k, g_.stride,
                     g_.pad);
}

Shape Pool2d::bind(const Shape& in) {
  const int64_t k = g_.k, pad = g_.pad;
  SCULPT_CHECK(in.size() == 3, ShapeError,
               fmt::format("layer '{}' ({}) expects an image input [channels, height, width] but "
                           "receives {}",
                           name(), kind_, to_string(in)),
               "", "pooling works on the output of conv2d or on image data");
  SCULPT_CHECK(2 * pad <= k, ConfigError,
               fmt::format("layer '{}' ({}): padding {} is more than half the kernel {}", name(),
                           kind_, pad, k),
               "", "use padding <= kernel / 2 (as PyTorch requires)");
  SCULPT_CHECK(in[1] + 2 * pad >= k && in[2] + 2 * pad >= k, ShapeError,
               fmt::format("layer '{}' ({}) has kernel {} but receives {}: the window does not fit",
                           name(), kind_, k, to_string(in)),
               "", "use a smaller kernel or remove an earlier pooling layer");
  g_.c = in[0];
  g_.h = in[1];
  g_.w = in[2];
  in_ = in;
  out_ = {g_.c, g_.oh(), g_.ow()};
  return out_;
}

void MaxPool2d::reserve(int64_t max_batch) {
  argmax_.assign(static_cast<size_t>(max_batch * numel(out_)), 0);
}

void MaxPool2d::forward(ParamStore&, const float* x, float* y, int64_t n, const Pass&) {
  SCULPT_CHECK(
      static_cast<size_t>(n * numel(out_)) <= argmax_.size(), ConfigError,
      fmt::format("layer '{}' (maxpool2d): batch {} exceeds the reserved size", name(), n));
  kernels::maxpool2d_forward(x, n, g_, y, argmax_.data());
}

void MaxPool2d::backward(ParamStore&, const float*, const float*, const float* dy, float* dx,
                         int64_t n) {
  if (dx) kernels::maxpool2d_backward(dy, argmax_.data(), n, g_, dx);
}

void AvgPool2d::forward(ParamStore&, const float* x, float* y, int64_t n, const Pass&) {
  kernels::avgpool2d_forward(x, n, g_, y);
}

void AvgPool2d::backward(ParamStore&, const float*, const float*, const float* dy, float* dx,
                         int64_t n) {
  if (dx) kernels::avgpool2d_backward(dy, n, g_, dx);
}

}  // namespace sculpt::nn

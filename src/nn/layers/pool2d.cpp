// The pooling layers over kernels::maxpool2d_* and kernels::avgpool2d_*.
#include "nn/layers/pool2d.h"

#include <fmt/format.h>

#include <algorithm>

#include "core/error.h"
#include "core/parallel.h"
#include "nn/layers/image_input.h"

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
  require_image(*this, in, "pooling works on the output of conv2d or on image data");
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

std::string GlobalAvgPool2d::describe() const {
  return fmt::format("{} GlobalAvgPool2d({} -> {})", name(), to_string(in_), to_string(out_));
}

Shape GlobalAvgPool2d::bind(const Shape& in) {
  require_image(*this, in, "global pooling works on the output of conv2d or on image data");
  plane_ = in[1] * in[2];
  in_ = in;
  out_ = {in[0]};
  return out_;
}

void GlobalAvgPool2d::forward(ParamStore&, const float* x, float* y, int64_t n, const Pass&) {
  const int64_t plane = plane_;
  for_range(
      n * out_[0],
      [=](int64_t b, int64_t e) {
        for (int64_t p = b; p < e; ++p) {
          double s = 0.0;  // in double: a 28x28 plane sums 784 values
          for (int64_t j = 0; j < plane; ++j) s += x[p * plane + j];
          y[p] = static_cast<float>(s / static_cast<double>(plane));
        }
      },
      n * out_[0] * plane);
}

void GlobalAvgPool2d::backward(ParamStore&, const float*, const float*, const float* dy, float* dx,
                               int64_t n) {
  if (!dx) return;
  const int64_t plane = plane_;
  const float inv = 1.0f / static_cast<float>(plane);
  for_range(
      n * out_[0],
      [=](int64_t b, int64_t e) {
        for (int64_t p = b; p < e; ++p) std::fill_n(dx + p * plane, plane, dy[p] * inv);
      },
      n * out_[0] * plane);
}

}  // namespace sculpt::nn

// MaxPool2d: kernels::maxpool2d_* with the argmax kept between forward and backward.
#include "nn/layers/maxpool2d.h"

#include "core/error.h"
#include "nn/layers/pool_shape.h"

namespace sculpt::nn {

MaxPool2d::MaxPool2d(std::string name, int64_t kernel, int64_t stride, int64_t padding)
    : Layer(std::move(name)) {
  g_.k = kernel;
  g_.stride = stride;
  g_.pad = padding;
}

std::string MaxPool2d::describe() const {
  return fmt::format("{} MaxPool2d(kernel {}, stride {}, padding {})", name(), g_.k, g_.stride,
                     g_.pad);
}

Shape MaxPool2d::bind(const Shape& in) {
  g_ = bind_pool(name(), "maxpool2d", in, g_.k, g_.stride, g_.pad);
  in_ = in;
  out_ = {g_.c, g_.oh(), g_.ow()};
  return out_;
}

void MaxPool2d::reserve(int64_t max_batch) {
  argmax_.assign(static_cast<size_t>(max_batch * numel(out_)), 0);
}

void MaxPool2d::forward(ParamStore&, const float* x, float* y, int64_t n, const Pass&) {
  SCULPT_CHECK(static_cast<size_t>(n * numel(out_)) <= argmax_.size(), ConfigError,
               fmt::format("layer '{}' (maxpool2d): batch {} exceeds the reserved size", name(), n));
  kernels::maxpool2d_forward(x, n, g_, y, argmax_.data());
}

void MaxPool2d::backward(ParamStore&, const float*, const float*, const float* dy, float* dx,
                         int64_t n) {
  if (dx) kernels::maxpool2d_backward(dy, argmax_.data(), n, g_, dx);
}

}  // namespace sculpt::nn

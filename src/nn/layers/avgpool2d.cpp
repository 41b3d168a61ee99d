// AvgPool2d: kernels::avgpool2d_*; nothing kept between forward and backward.
#include "nn/layers/avgpool2d.h"

#include "nn/layers/pool_shape.h"

namespace sculpt::nn {

AvgPool2d::AvgPool2d(std::string name, int64_t kernel, int64_t stride, int64_t padding)
    : Layer(std::move(name)) {
  g_.k = kernel;
  g_.stride = stride;
  g_.pad = padding;
}

std::string AvgPool2d::describe() const {
  return fmt::format("{} AvgPool2d(kernel {}, stride {}, padding {})", name(), g_.k, g_.stride,
                     g_.pad);
}

Shape AvgPool2d::bind(const Shape& in) {
  g_ = bind_pool(name(), "avgpool2d", in, g_.k, g_.stride, g_.pad);
  in_ = in;
  out_ = {g_.c, g_.oh(), g_.ow()};
  return out_;
}

void AvgPool2d::forward(ParamStore&, const float* x, float* y, int64_t n, const Pass&) {
  kernels::avgpool2d_forward(x, n, g_, y);
}

void AvgPool2d::backward(ParamStore&, const float*, const float*, const float* dy, float* dx,
                         int64_t n) {
  if (dx) kernels::avgpool2d_backward(dy, n, g_, dx);
}

}  // namespace sculpt::nn

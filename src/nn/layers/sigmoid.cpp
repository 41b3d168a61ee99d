// Sigmoid forward/backward through the element-wise kernels.
#include "nn/layers/sigmoid.h"

#include "kernels/elementwise.h"

namespace sculpt::nn {

void Sigmoid::forward(ParamStore&, const float* x, float* y, int64_t n, const Pass&) {
  kernels::sigmoid_forward(x, y, n * width());
}

void Sigmoid::backward(ParamStore&, const float*, const float* y, const float* dy, float* dx,
                  int64_t n) {
  if (dx) kernels::sigmoid_backward(y, dy, dx, n * width());
}

}  // namespace sculpt::nn

// ReLU forward/backward through the element-wise kernels.
#include "nn/layers/relu.h"

#include "kernels/elementwise.h"

namespace sculpt::nn {

void ReLU::forward(ParamStore&, const float* x, float* y, int64_t n, const Pass&) {
  kernels::relu_forward(x, y, n * width());
}

void ReLU::backward(ParamStore&, const float*, const float* y, const float* dy, float* dx,
                  int64_t n) {
  if (dx) kernels::relu_backward(y, dy, dx, n * width());
}

}  // namespace sculpt::nn

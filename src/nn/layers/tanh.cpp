// Tanh forward/backward through the element-wise kernels.
#include "nn/layers/tanh.h"

#include "kernels/elementwise.h"

namespace sculpt::nn {

void Tanh::forward(ParamStore&, const float* x, float* y, int64_t n, const Pass&) {
  kernels::tanh_forward(x, y, n * width());
}

void Tanh::backward(ParamStore&, const float*, const float* y, const float* dy, float* dx,
                  int64_t n) {
  if (dx) kernels::tanh_backward(y, dy, dx, n * width());
}

}  // namespace sculpt::nn

// The activations' kernels: the element-wise kernels for ReLU, tanh and the sigmoid, SiLU here.
#include "nn/layers/activations.h"

#include <cmath>

#include "kernels/elementwise.h"

namespace sculpt::nn {

void ReluOp::forward(const float* x, float* y, int64_t count) {
  kernels::relu_forward(x, y, count);
}
void ReluOp::backward(const float*, const float* y, const float* dy, float* dx, int64_t count) {
  kernels::relu_backward(y, dy, dx, count);
}

void TanhOp::forward(const float* x, float* y, int64_t count) {
  kernels::tanh_forward(x, y, count);
}
void TanhOp::backward(const float*, const float* y, const float* dy, float* dx, int64_t count) {
  kernels::tanh_backward(y, dy, dx, count);
}

void SigmoidOp::forward(const float* x, float* y, int64_t count) {
  kernels::sigmoid_forward(x, y, count);
}
void SigmoidOp::backward(const float*, const float* y, const float* dy, float* dx, int64_t count) {
  kernels::sigmoid_backward(y, dy, dx, count);
}

namespace {
float logistic_of(float x) { return 1.0f / (1.0f + std::exp(-x)); }
}  // namespace

void SiluOp::forward(const float* x, float* y, int64_t count) {
  for (int64_t i = 0; i < count; ++i) y[i] = x[i] * logistic_of(x[i]);
}
void SiluOp::backward(const float* x, const float*, const float* dy, float* dx, int64_t count) {
  for (int64_t i = 0; i < count; ++i) {
    const float s = logistic_of(x[i]);
    dx[i] = dy[i] * s * (1.0f + x[i] * (1.0f - s));
  }
}

}  // namespace sculpt::nn

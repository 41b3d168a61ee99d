// SiLU forward/backward, element by element.
#include "nn/layers/silu.h"

#include <cmath>

namespace sculpt::nn {

namespace {

float logistic(float x) { return 1.0f / (1.0f + std::exp(-x)); }

}  // namespace

void SiLU::forward(ParamStore&, const float* x, float* y, int64_t n, const Pass&) {
  const int64_t count = n * width();
  for (int64_t i = 0; i < count; ++i) y[i] = x[i] * logistic(x[i]);
}

void SiLU::backward(ParamStore&, const float* x, const float*, const float* dy, float* dx,
                    int64_t n) {
  if (!dx) return;
  const int64_t count = n * width();
  for (int64_t i = 0; i < count; ++i) {
    const float s = logistic(x[i]);
    dx[i] = dy[i] * s * (1.0f + x[i] * (1.0f - s));
  }
}

}  // namespace sculpt::nn

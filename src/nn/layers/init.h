// PyTorch's default initialisation for Linear and Conv2d: kaiming_uniform(a = sqrt(5)) for the
// weight, which reduces to U(-1/sqrt(fan_in), 1/sqrt(fan_in)), and the same bound for the bias.
#pragma once

#include <cmath>
#include <cstdint>

#include "core/rng.h"

namespace sculpt::nn {

// Fills v[0..size) with U(-bound, bound), bound = 1 / sqrt(fan_in), drawing from rng in order.
inline void init_uniform_fan_in(float* v, int64_t size, int64_t fan_in, Rng& rng) {
  const double bound = fan_in > 0 ? 1.0 / std::sqrt(static_cast<double>(fan_in)) : 0.0;
  for (int64_t i = 0; i < size; ++i) v[i] = static_cast<float>(rng.uniform(-bound, bound));
}

}  // namespace sculpt::nn

// exp, the logistic sigmoid and tanh in plain float arithmetic (no library call), so a loop over
// them vectorises (the recurrent layers' gates: libm's scalar expf and tanhf were a quarter of a
// character LSTM's step). exp: Cody-Waite reduction by ln 2 and Cephes' degree-6 polynomial,
// within 2 ulp of std::exp on [-87, 88]; the argument is clamped there, so the result is never
// inf or a subnormal. tests/unit/kernels/fast_math_test.cpp holds them to std::exp and std::tanh.
#pragma once

#include <bit>
#include <cstdint>

namespace sculpt::kernels {

inline float exp_fast(float x) {
  x = x < -87.0f ? -87.0f : (x > 88.0f ? 88.0f : x);
  // n = round(x / ln 2): adding 1.5 * 2^23 rounds to an integer in float arithmetic.
  const float n = (x * 1.44269504088896341f + 12582912.0f) - 12582912.0f;
  const float r = x - n * 0.693359375f + n * 2.12194440e-4f;  // ln 2 in two parts
  float p = 1.9875691500e-4f;
  p = p * r + 1.3981999507e-3f;
  p = p * r + 8.3334519073e-3f;
  p = p * r + 4.1665795894e-2f;
  p = p * r + 1.6666665459e-1f;
  p = p * r + 5.0000001201e-1f;
  p = p * (r * r) + r + 1.0f;
  return p * std::bit_cast<float>((static_cast<int32_t>(n) + 127) << 23);  // * 2^n
}

inline float sigmoid_fast(float x) { return 1.0f / (1.0f + exp_fast(-x)); }

// 1 - 2 / (e^(2x) + 1): exact limits +-1, absolute error a few 1e-8 near 0.
inline float tanh_fast(float x) { return 1.0f - 2.0f / (exp_fast(2.0f * x) + 1.0f); }

}  // namespace sculpt::kernels

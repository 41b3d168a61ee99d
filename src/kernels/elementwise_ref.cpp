// Reference twins of the element-wise kernels: the plainest loops, serial, double where it helps.
#include <algorithm>
#include <cmath>
#include <limits>

#include "kernels/elementwise.h"

namespace sculpt::kernels {

void fill_rows_reference(float* y, const float* row, int64_t n, int64_t f) {
  for (int64_t i = 0; i < n; ++i)
    for (int64_t j = 0; j < f; ++j) y[i * f + j] = row[j];
}

void add_rows_reference(float* y, const float* row, int64_t n, int64_t f) {
  for (int64_t i = 0; i < n; ++i)
    for (int64_t j = 0; j < f; ++j) y[i * f + j] += row[j];
}

void column_sums_add_reference(const float* dy, int64_t n, int64_t f, float* db) {
  for (int64_t j = 0; j < f; ++j) {
    double acc = 0.0;
    for (int64_t i = 0; i < n; ++i) acc += dy[i * f + j];
    db[j] = static_cast<float>(db[j] + acc);
  }
}

void scale_reference(float* x, int64_t size, float f) {
  for (int64_t i = 0; i < size; ++i) x[i] = x[i] * f;
}

void relu_forward_reference(const float* x, float* y, int64_t size) {
  for (int64_t i = 0; i < size; ++i) y[i] = std::max(x[i], 0.0f);
}

void relu_backward_reference(const float* y, const float* dy, float* dx, int64_t size) {
  for (int64_t i = 0; i < size; ++i) dx[i] = y[i] > 0.0f ? dy[i] : 0.0f;
}

void tanh_forward_reference(const float* x, float* y, int64_t size) {
  for (int64_t i = 0; i < size; ++i) y[i] = static_cast<float>(std::tanh(double{x[i]}));
}

void tanh_backward_reference(const float* y, const float* dy, float* dx, int64_t size) {
  for (int64_t i = 0; i < size; ++i) dx[i] = static_cast<float>(dy[i] * (1.0 - double{y[i]} * y[i]));
}

void sigmoid_forward_reference(const float* x, float* y, int64_t size) {
  for (int64_t i = 0; i < size; ++i) {
    const double v = x[i];
    // Two branches so exp never overflows.
    y[i] = static_cast<float>(v >= 0 ? 1.0 / (1.0 + std::exp(-v))
                                     : std::exp(v) / (1.0 + std::exp(v)));
  }
}

void sigmoid_backward_reference(const float* y, const float* dy, float* dx, int64_t size) {
  for (int64_t i = 0; i < size; ++i)
    dx[i] = static_cast<float>(dy[i] * double{y[i]} * (1.0 - y[i]));
}

double sum_reference(const float* x, int64_t size) {
  double acc = 0.0;
  for (int64_t i = 0; i < size; ++i) acc += x[i];
  return acc;
}

double sum_squares_reference(const float* x, int64_t size) {
  double acc = 0.0;
  for (int64_t i = 0; i < size; ++i) acc += double{x[i]} * x[i];
  return acc;
}

float max_abs_reference(const float* x, int64_t size) {
  float m = 0.0f;
  for (int64_t i = 0; i < size; ++i) {
    if (std::isnan(x[i])) return std::numeric_limits<float>::quiet_NaN();
    m = std::max(m, std::fabs(x[i]));
  }
  return m;
}

bool all_finite_reference(const float* x, int64_t size) {
  for (int64_t i = 0; i < size; ++i)
    if (!std::isfinite(x[i])) return false;
  return true;
}

}  // namespace sculpt::kernels

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

void add_rows_relu_reference(float* y, const float* row, int64_t n, int64_t f) {
  for (int64_t i = 0; i < n * f; ++i) y[i] = std::max(y[i] + row[i % f], 0.0f);
}

void relu_backward_column_sums_reference(const float* dy, const float* y, int64_t n, int64_t f,
                                         float* dx, float* db) {
  for (int64_t i = 0; i < n * f; ++i) dx[i] = y[i] > 0.0f ? dy[i] : 0.0f;
  column_sums_add_reference(dx, n, f, db);
}

void scale_reference(float* x, int64_t size, float f) {
  for (int64_t i = 0; i < size; ++i) x[i] = x[i] * f;
}

double sum_reference(const float* x, int64_t size) {
  double acc = 0.0;
  for (int64_t i = 0; i < size; ++i) acc += x[i];
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

// Element-wise kernels: simple loops the compiler vectorises, OpenMP above the size threshold.
#include "kernels/elementwise.h"

#include <omp.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>

#include "core/parallel.h"

namespace sculpt::kernels {

namespace {

// Deterministic parallel reduction: per-thread partials combined in thread order.
template <class T, class Body, class Combine>
inline T reduce_range(int64_t size, T init, Body body, Combine combine) {
  if (size < kParallelThreshold || omp_in_parallel() || omp_get_max_threads() == 1)
    return body(int64_t{0}, size);
  const int max_t = omp_get_max_threads();
  // Up to 64 partials on the stack: reductions must not allocate in the hot path.
  T partial[64];
  int used = 0;
#pragma omp parallel num_threads(std::min(max_t, 64))
  {
    const int64_t t = omp_get_thread_num(), nt = omp_get_num_threads();
    const int64_t chunk = (size + nt - 1) / nt;
    const int64_t b = std::min(size, t * chunk), e = std::min(size, b + chunk);
    partial[t] = body(b, e);
#pragma omp single
    used = static_cast<int>(nt);
  }
  T acc = init;
  for (int t = 0; t < used; ++t) acc = combine(acc, partial[t]);
  return acc;
}

}  // namespace

void fill_rows(float* y, const float* row, int64_t n, int64_t f) {
  for (int64_t i = 0; i < n; ++i) std::memcpy(y + i * f, row, static_cast<size_t>(f) * 4);
}

void add_rows(float* y, const float* row, int64_t n, int64_t f) {
  for_range(
      n,
      [&](int64_t b, int64_t e) {
        for (int64_t i = b; i < e; ++i) {
          float* __restrict yi = y + i * f;
          for (int64_t j = 0; j < f; ++j) yi[j] += row[j];
        }
      },
      n * f);
}

namespace {
// Runs cols(b, e) over slices of the f columns: split across threads when the matrix is large
// (each thread owns a slice of the bias gradient), whole when it is narrow.
template <class Cols>
void by_columns(int64_t n, int64_t f, Cols cols) {
  if (f < 64) {
    cols(int64_t{0}, f);
  } else {
    for_range(f, cols, n * f);
  }
}
}  // namespace

void column_sums_add(const float* dy, int64_t n, int64_t f, float* db) {
  // Rows accumulate into db directly: vectorised over j, one pass over dy.
  by_columns(n, f, [&](int64_t b, int64_t e) {
    for (int64_t i = 0; i < n; ++i) {
      const float* __restrict r = dy + i * f;
      float* __restrict d = db;
      for (int64_t j = b; j < e; ++j) d[j] += r[j];
    }
  });
}

void add_rows_relu(float* y, const float* row, int64_t n, int64_t f) {
  for_range(
      n,
      [&](int64_t b, int64_t e) {
        for (int64_t i = b; i < e; ++i) {
          float* __restrict yi = y + i * f;
          for (int64_t j = 0; j < f; ++j) {
            const float v = yi[j] + row[j];
            yi[j] = v > 0.0f ? v : 0.0f;
          }
        }
      },
      n * f);
}

void relu_backward_column_sums(const float* dy, const float* y, int64_t n, int64_t f, float* dx,
                               float* db) {
  by_columns(n, f, [&](int64_t b, int64_t e) {
    for (int64_t i = 0; i < n; ++i) {
      const float* __restrict g = dy + i * f;
      const float* __restrict out = y + i * f;
      float* __restrict d = dx + i * f;
      float* __restrict sums = db;
      for (int64_t j = b; j < e; ++j) {
        d[j] = out[j] > 0.0f ? g[j] : 0.0f;
        sums[j] += d[j];
      }
    }
  });
}

void scale(float* x, int64_t size, float f) {
  for_range(size, [&](int64_t b, int64_t e) {
    for (int64_t i = b; i < e; ++i) x[i] *= f;
  });
}

namespace {
// Sum of term(x[i]) in double, over the deterministic parallel reduction.
template <class Term>
double sum_of(const float* x, int64_t size, Term term) {
  return reduce_range<double>(
      size, 0.0,
      [&](int64_t b, int64_t e) {
        double acc = 0.0;
#pragma omp simd reduction(+ : acc)
        for (int64_t i = b; i < e; ++i) acc += term(x[i]);
        return acc;
      },
      [](double a, double c) { return a + c; });
}
}  // namespace

double sum(const float* x, int64_t size) {
  return sum_of(x, size, [](float v) { return static_cast<double>(v); });
}

float max_abs(const float* x, int64_t size) {
  return reduce_range<float>(
      size, 0.0f,
      [&](int64_t b, int64_t e) {
        float m = 0.0f;
        bool nan = false;
        for (int64_t i = b; i < e; ++i) {
          m = std::max(m, std::fabs(x[i]));
          nan |= std::isnan(x[i]);
        }
        return nan ? std::numeric_limits<float>::quiet_NaN() : m;
      },
      [](float a, float c) { return (std::isnan(a) || std::isnan(c)) ? a + c : std::max(a, c); });
}

namespace {
// Whether x[b, e) is finite: a float is NaN or infinite exactly when its exponent bits are all
// ones. Testing the bits with an integer OR-reduction vectorises without relaxing
// floating-point semantics.
bool finite_range(const float* x, int64_t b, int64_t e) {
  uint32_t bad = 0;
#pragma omp simd reduction(| : bad)
  for (int64_t i = b; i < e; ++i) {
    uint32_t bits;
    std::memcpy(&bits, x + i, sizeof bits);
    bad |= static_cast<uint32_t>((bits & 0x7f800000u) == 0x7f800000u);
  }
  return bad == 0;
}
}  // namespace

bool all_finite(const float* x, int64_t size) {
  return reduce_range<int>(
             size, 1, [&](int64_t b, int64_t e) { return finite_range(x, b, e) ? 1 : 0; },
             [](int a, int c) { return a & c; }) == 1;
}

}  // namespace sculpt::kernels

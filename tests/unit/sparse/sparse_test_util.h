// Shared by the sparse kernel tests: the instruction sets to try, random matrices and vectors,
// and the comparison against the double-precision reference.
#pragma once

#include <gtest/gtest.h>
#include <omp.h>

#include <cmath>
#include <string>
#include <vector>

#include "core/parallel.h"
#include "core/rng.h"
#include "sparse/csr.h"

namespace sculpt::sparse {

constexpr float kSentinel = 12345.0f;  // in Y's padding: must survive every call

// The instruction sets this CPU can run, lowest first.
inline std::vector<std::string> available_isas() {
  const std::string best = kernel_isa();
  std::vector<std::string> isas = {"scalar"};
  if (best == "avx2" || best == "avx512") isas.push_back("avx2");
  if (best == "avx512") isas.push_back("avx512");
  return isas;
}

// Restores automatic dispatch (and the thread count) when a test ends, even on failure.
struct IsaGuard {
  int threads = omp_get_max_threads();
  ~IsaGuard() {
    force_kernel_isa("");
    set_threads(threads);
  }
};

// Nonzero with probability `density`, values in [-1, 1] without exact zeros.
inline std::vector<float> random_dense(int64_t rows, int64_t cols, double density, Rng& rng) {
  std::vector<float> w(size_t(rows * cols), 0.0f);
  for (auto& v : w)
    if (rng.uniform() < density) v = float(rng.uniform(0.05, 1.0)) * (rng.uniform() < 0.5 ? -1 : 1);
  return w;
}

inline std::vector<float> random_vec(int64_t size, Rng& rng) {
  std::vector<float> v(static_cast<size_t>(size));
  for (auto& x : v) x = float(rng.uniform(-1.0, 1.0));
  return v;
}

// Expects |y - ref| <= 1e-5 * (|bias| + sum_k |A[r,k] X[k,j]|) for every output, and Y's
// padding columns untouched.
inline void expect_matches(const Csr& a, const std::vector<float>& X, int64_t ldx, int64_t n,
                    const float* bias, const std::vector<float>& Y, const std::vector<float>& Y_ref,
                    int64_t ldy, const std::string& what) {
  int reported = 0;
  for (int64_t r = 0; r < a.rows; ++r) {
    for (int64_t j = 0; j < ldy; ++j) {
      const float y = Y[size_t(r * ldy + j)];
      if (j >= n) {
        if (!(y == kSentinel) && reported++ < 5)
          ADD_FAILURE() << what << ": padding Y[" << r << ", " << j << "] overwritten: " << y;
        continue;
      }
      double scale = bias ? std::fabs(double(bias[r])) : 0.0;
      for (uint32_t p = a.row_ptr[size_t(r)]; p < a.row_ptr[size_t(r) + 1]; ++p) {
        const int64_t k = a.narrow() ? a.col16[p] : a.col32[p];
        scale += std::fabs(double(a.values[p]) * X[size_t(k * ldx + j)]);
      }
      const float ref = Y_ref[size_t(r * ldy + j)];
      if (!(std::fabs(double(y) - ref) <= 1e-5 * scale) && reported++ < 5)
        ADD_FAILURE() << what << ": Y[" << r << ", " << j << "] = " << y << ", reference " << ref
                      << ", tolerance " << 1e-5 * scale;
    }
  }
}

}  // namespace sculpt::sparse

// gemm through oneDNN's row-major dnnl_sgemm.
#include "kernels/gemm.h"

#include <oneapi/dnnl/dnnl.h>

#include <fmt/format.h>

#include "core/error.h"

namespace sculpt::kernels {

void gemm(bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K, float alpha,
          const float* A, int64_t lda, const float* B, int64_t ldb, float beta, float* C,
          int64_t ldc) {
  if (M <= 0 || N <= 0) return;
  const dnnl_status_t st = dnnl_sgemm(trans_a ? 'T' : 'N', trans_b ? 'T' : 'N', M, N, K, alpha,
                                      A, lda, B, ldb, beta, C, ldc);
  if (st != dnnl_success) {
    throw Error(fmt::format("oneDNN sgemm failed with status {} (M={}, N={}, K={}, lda={}, "
                            "ldb={}, ldc={}, trans_a={}, trans_b={})",
                            static_cast<int>(st), M, N, K, lda, ldb, ldc, trans_a, trans_b),
                "kernels::gemm", "check the leading dimensions against the matrix shapes");
  }
}

void gemv(const float* W, int64_t rows, int64_t cols, const float* x, const float* bias,
          float* y) {
  // Four rows at a time, 16 lanes each: four independent accumulator chains hide the FMA
  // latency, and x is read once per four rows. The lane loops vectorise at -O3.
  constexpr int64_t kRows = 4, kLanes = 16;
  const int64_t full = cols / kLanes * kLanes;
  int64_t r = 0;
  for (; r + kRows <= rows; r += kRows) {
    float acc[kRows][kLanes] = {};
    for (int64_t k = 0; k < full; k += kLanes)
      for (int64_t i = 0; i < kRows; ++i)
        for (int64_t l = 0; l < kLanes; ++l) acc[i][l] += W[(r + i) * cols + k + l] * x[k + l];
    for (int64_t i = 0; i < kRows; ++i) {
      float s = bias ? bias[r + i] : 0.0f;
      for (int64_t l = 0; l < kLanes; ++l) s += acc[i][l];
      for (int64_t k = full; k < cols; ++k) s += W[(r + i) * cols + k] * x[k];
      y[r + i] = s;
    }
  }
  for (; r < rows; ++r) {
    float s = bias ? bias[r] : 0.0f;
    for (int64_t k = 0; k < cols; ++k) s += W[r * cols + k] * x[k];
    y[r] = s;
  }
}

}  // namespace sculpt::kernels

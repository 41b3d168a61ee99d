// Reference gemm: the definition, one dot product at a time in double. For tests only.
#include "kernels/gemm.h"

namespace sculpt::kernels {

void gemm_reference(bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K, float alpha,
                    const float* A, int64_t lda, const float* B, int64_t ldb, float beta, float* C,
                    int64_t ldc) {
  for (int64_t i = 0; i < M; ++i) {
    for (int64_t j = 0; j < N; ++j) {
      double acc = 0.0;
      for (int64_t p = 0; p < K; ++p) {
        const double a = trans_a ? A[p * lda + i] : A[i * lda + p];
        const double b = trans_b ? B[j * ldb + p] : B[p * ldb + j];
        acc += a * b;
      }
      const double old = beta == 0.0f ? 0.0 : static_cast<double>(beta) * C[i * ldc + j];
      C[i * ldc + j] = static_cast<float>(alpha * acc + old);
    }
  }
}

void gemv_reference(const float* W, int64_t rows, int64_t cols, const float* x, const float* bias,
                    float* y) {
  for (int64_t r = 0; r < rows; ++r) {
    double s = bias ? bias[r] : 0.0;
    for (int64_t k = 0; k < cols; ++k) s += double(W[r * cols + k]) * double(x[k]);
    y[r] = static_cast<float>(s);
  }
}

}  // namespace sculpt::kernels

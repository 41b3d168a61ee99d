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

}  // namespace sculpt::kernels

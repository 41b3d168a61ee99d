// Dense matrix multiply on row-major float matrices: C = alpha * op(A) * op(B) + beta * C, where
// op(A) is [M, K], op(B) is [K, N] and C is [M, N]. The fast path calls oneDNN's dnnl_sgemm
// (row-major, OpenMP-threaded; single-threaded when called inside an omp parallel region).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/cpu.h"

namespace sculpt::kernels {

// lda/ldb/ldc are the row strides of A, B and C as stored (A is [K, M] when trans_a).
// Throws sculpt::Error when oneDNN rejects the call. beta == 0 ignores C's old contents.
void gemm(bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K, float alpha, const float* A,
          int64_t lda, const float* B, int64_t ldb, float beta, float* C, int64_t ldc);

// Reference twin (gemm_ref.cpp): a plain triple loop accumulating in double. For tests only.
void gemm_reference(bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K, float alpha,
                    const float* A, int64_t lda, const float* B, int64_t ldb, float beta, float* C,
                    int64_t ldc);

// y[r] = bias[r] + sum_k W[r, k] x[k] for W [rows, cols] row-major (bias may be null). One
// thread, no OpenMP: for batch-1 inference, where forking a team costs more than the work
// (about 3.5 us on the 2-core machine) and oneDNN's sgemm splits even a vector product.
void gemv(const float* W, int64_t rows, int64_t cols, const float* x, const float* bias, float* y);
void gemv_reference(const float* W, int64_t rows, int64_t cols, const float* x, const float* bias,
                    float* y);

// The instruction-set variants gemv chooses from, the ones this CPU runs, best first (gemv
// uses the first); scalar always last. Every one is tested against gemv_reference.
using GemvFn = void (*)(const float* W, int64_t rows, int64_t cols, const float* x,
                        const float* bias, float* y);
struct GemvVariant {
  const char* name;
  GemvFn fn;
  Isa level;
};
const std::vector<GemvVariant>& gemv_variants();
// The one gemv runs: the best of them at sculpt::isa().
const GemvVariant& gemv_variant();

// Caps oneDNN's kernels at sculpt::isa() (avx2: its AVX2 kernels; scalar: SSE4.1, its lowest;
// avx512: no cap, AMX included), once, before its first kernel: every oneDNN call of ours runs
// it first. A later set_isa() does not move oneDNN.
void apply_isa_to_onednn();
// The instruction set oneDNN's kernels use ("avx512_core_amx", "avx2", ...).
std::string onednn_isa();

}  // namespace sculpt::kernels

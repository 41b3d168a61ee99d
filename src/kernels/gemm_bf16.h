// bf16 products with fp32 accumulation, for mixed-precision training (issue 24): C = op(A) op(B),
// or C += op(A) op(B), with A and B in bfloat16 and C in fp32, through oneDNN's matmul primitive
// (AMX or AVX-512 BF16 where the CPU has them, oneDNN's conversion path on other AVX-512 CPUs;
// below AVX-512, where oneDNN has none, the operands widened to fp32 for kernels::gemm: the same
// products, accumulated in fp32). The instruction-set cap of gemm.h applies. Shapes as
// kernels::gemm: op(A) is [M, K], op(B) is [K, N], row strides lda/ldb/ldc as stored. One primitive
// per shape, cached (a training run has a handful).
#pragma once

#include <cstdint>
#include <string>

namespace sculpt::kernels {

// A bfloat16: the high 16 bits of a float.
using bf16 = uint16_t;

// Round to nearest, ties to even; a NaN stays a (quiet) NaN, infinities stay infinite.
bf16 to_bf16(float x);
inline float from_bf16(bf16 x) {
  const uint32_t bits = uint32_t{x} << 16;
  float f;
  __builtin_memcpy(&f, &bits, sizeof f);
  return f;
}
// y[i] = to_bf16(x[i]) over n values, on every thread above the parallel threshold.
void to_bf16(const float* x, int64_t n, bf16* y);

void gemm_bf16(bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K, const bf16* A,
               int64_t lda, const bf16* B, int64_t ldb, bool accumulate, float* C, int64_t ldc);

// What gemm_bf16 runs for that shape ("oneDNN brg:avx512_core_amx_bf16", or the widened fp32
// path): what a run's log names.
std::string gemm_bf16_implementation(bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K,
                                     int64_t lda, int64_t ldb, int64_t ldc);

// Reference twin: the bf16 values widened to float, then gemm_reference (double sums).
void gemm_bf16_reference(bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K, const bf16* A,
                         int64_t lda, const bf16* B, int64_t ldb, bool accumulate, float* C,
                         int64_t ldc);

}  // namespace sculpt::kernels

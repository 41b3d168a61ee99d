// gemm through oneDNN's row-major dnnl_sgemm.
#include "kernels/gemm.h"

#include <fmt/format.h>
#include <oneapi/dnnl/dnnl.h>

#include "core/error.h"
#include "kernels/intrinsics.h"

namespace sculpt::kernels {

void gemm(bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K, float alpha, const float* A,
          int64_t lda, const float* B, int64_t ldb, float beta, float* C, int64_t ldc) {
  if (M <= 0 || N <= 0) return;
  apply_isa_to_onednn();
  const dnnl_status_t st = dnnl_sgemm(trans_a ? 'T' : 'N', trans_b ? 'T' : 'N', M, N, K, alpha, A,
                                      lda, B, ldb, beta, C, ldc);
  if (st != dnnl_success) {
    throw Error(fmt::format("oneDNN sgemm failed with status {} (M={}, N={}, K={}, lda={}, "
                            "ldb={}, ldc={}, trans_a={}, trans_b={})",
                            static_cast<int>(st), M, N, K, lda, ldb, ldc, trans_a, trans_b),
                "kernels::gemm", "check the leading dimensions against the matrix shapes");
  }
}

namespace {

// One row's dot product with x plus its bias: the tail of a block and the portable fallback.
float row_dot(const float* w, const float* x, int64_t cols, float init) {
  float s = init;
  for (int64_t k = 0; k < cols; ++k) s += w[k] * x[k];
  return s;
}

// Four rows at a time, two 16-lane chunks of x per iteration: eight independent accumulator
// chains hide the FMA latency, and each x chunk is loaded once for four rows.
__attribute__((target("avx512f"))) void gemv_avx512(const float* W, int64_t rows, int64_t cols,
                                                    const float* x, const float* bias, float* y) {
  const int64_t full = cols / 32 * 32;
  int64_t r = 0;
  for (; r + 4 <= rows; r += 4) {
    const float* w0 = W + r * cols;
    const float* w1 = w0 + cols;
    const float* w2 = w1 + cols;
    const float* w3 = w2 + cols;
    __m512 a0 = _mm512_setzero_ps(), a1 = a0, a2 = a0, a3 = a0, b0 = a0, b1 = a0, b2 = a0, b3 = a0;
    for (int64_t k = 0; k < full; k += 32) {
      const __m512 xa = _mm512_loadu_ps(x + k), xb = _mm512_loadu_ps(x + k + 16);
      a0 = _mm512_fmadd_ps(_mm512_loadu_ps(w0 + k), xa, a0);
      a1 = _mm512_fmadd_ps(_mm512_loadu_ps(w1 + k), xa, a1);
      a2 = _mm512_fmadd_ps(_mm512_loadu_ps(w2 + k), xa, a2);
      a3 = _mm512_fmadd_ps(_mm512_loadu_ps(w3 + k), xa, a3);
      b0 = _mm512_fmadd_ps(_mm512_loadu_ps(w0 + k + 16), xb, b0);
      b1 = _mm512_fmadd_ps(_mm512_loadu_ps(w1 + k + 16), xb, b1);
      b2 = _mm512_fmadd_ps(_mm512_loadu_ps(w2 + k + 16), xb, b2);
      b3 = _mm512_fmadd_ps(_mm512_loadu_ps(w3 + k + 16), xb, b3);
    }
    const float* w[4] = {w0, w1, w2, w3};
    const __m512 acc[4] = {_mm512_add_ps(a0, b0), _mm512_add_ps(a1, b1), _mm512_add_ps(a2, b2),
                           _mm512_add_ps(a3, b3)};
    for (int i = 0; i < 4; ++i) {
      const float init = (bias ? bias[r + i] : 0.0f) + _mm512_reduce_add_ps(acc[i]);
      y[r + i] = row_dot(w[i] + full, x + full, cols - full, init);
    }
  }
  for (; r < rows; ++r) y[r] = row_dot(W + r * cols, x, cols, bias ? bias[r] : 0.0f);
}

// The AVX2 twin: four rows, two 8-lane chunks of x per iteration (eight accumulator chains).
__attribute__((target("avx2,fma"))) float hsum_avx2(__m256 v) {
  const __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  const __m128 h = _mm_add_ps(s, _mm_movehl_ps(s, s));
  return _mm_cvtss_f32(_mm_add_ss(h, _mm_shuffle_ps(h, h, 1)));
}

__attribute__((target("avx2,fma"))) void gemv_avx2(const float* W, int64_t rows, int64_t cols,
                                                   const float* x, const float* bias, float* y) {
  const int64_t full = cols / 16 * 16;
  int64_t r = 0;
  for (; r + 4 <= rows; r += 4) {
    const float* w0 = W + r * cols;
    const float* w1 = w0 + cols;
    const float* w2 = w1 + cols;
    const float* w3 = w2 + cols;
    __m256 a0 = _mm256_setzero_ps(), a1 = a0, a2 = a0, a3 = a0, b0 = a0, b1 = a0, b2 = a0, b3 = a0;
    for (int64_t k = 0; k < full; k += 16) {
      const __m256 xa = _mm256_loadu_ps(x + k), xb = _mm256_loadu_ps(x + k + 8);
      a0 = _mm256_fmadd_ps(_mm256_loadu_ps(w0 + k), xa, a0);
      a1 = _mm256_fmadd_ps(_mm256_loadu_ps(w1 + k), xa, a1);
      a2 = _mm256_fmadd_ps(_mm256_loadu_ps(w2 + k), xa, a2);
      a3 = _mm256_fmadd_ps(_mm256_loadu_ps(w3 + k), xa, a3);
      b0 = _mm256_fmadd_ps(_mm256_loadu_ps(w0 + k + 8), xb, b0);
      b1 = _mm256_fmadd_ps(_mm256_loadu_ps(w1 + k + 8), xb, b1);
      b2 = _mm256_fmadd_ps(_mm256_loadu_ps(w2 + k + 8), xb, b2);
      b3 = _mm256_fmadd_ps(_mm256_loadu_ps(w3 + k + 8), xb, b3);
    }
    const float* w[4] = {w0, w1, w2, w3};
    const __m256 acc[4] = {_mm256_add_ps(a0, b0), _mm256_add_ps(a1, b1), _mm256_add_ps(a2, b2),
                           _mm256_add_ps(a3, b3)};
    for (int i = 0; i < 4; ++i) {
      const float init = (bias ? bias[r + i] : 0.0f) + hsum_avx2(acc[i]);
      y[r + i] = row_dot(w[i] + full, x + full, cols - full, init);
    }
  }
  for (; r < rows; ++r) y[r] = row_dot(W + r * cols, x, cols, bias ? bias[r] : 0.0f);
}

void gemv_scalar(const float* W, int64_t rows, int64_t cols, const float* x, const float* bias,
                 float* y) {
  for (int64_t r = 0; r < rows; ++r) y[r] = row_dot(W + r * cols, x, cols, bias ? bias[r] : 0.0f);
}

std::vector<GemvVariant> detect_gemv_variants() {
  std::vector<GemvVariant> v;
  if (detected_isa() >= Isa::kAvx512) v.push_back({"avx512", gemv_avx512, Isa::kAvx512});
  if (detected_isa() >= Isa::kAvx2) v.push_back({"avx2", gemv_avx2, Isa::kAvx2});
  v.push_back({"scalar", gemv_scalar, Isa::kScalar});
  return v;
}

}  // namespace

const std::vector<GemvVariant>& gemv_variants() {
  static const std::vector<GemvVariant> variants = detect_gemv_variants();
  return variants;
}

const GemvVariant& gemv_variant() {
  const Isa level = isa();
  for (const GemvVariant& v : gemv_variants())
    if (v.level <= level) return v;
  return gemv_variants().back();
}

void gemv(const float* W, int64_t rows, int64_t cols, const float* x, const float* bias, float* y) {
  gemv_variant().fn(W, rows, cols, x, bias, y);
}

void apply_isa_to_onednn() {
  static const bool applied = [] {
    const Isa level = isa();
    if (level < Isa::kAvx512)
      dnnl_set_max_cpu_isa(level == Isa::kAvx2 ? dnnl_cpu_isa_avx2 : dnnl_cpu_isa_sse41);
    return true;
  }();
  (void)applied;
}

std::string onednn_isa() {
  apply_isa_to_onednn();
  switch (dnnl_get_effective_cpu_isa()) {
    case dnnl_cpu_isa_sse41:
      return "sse41";
    case dnnl_cpu_isa_avx:
      return "avx";
    case dnnl_cpu_isa_avx2:
      return "avx2";
    case dnnl_cpu_isa_avx2_vnni:
      return "avx2_vnni";
    case dnnl_cpu_isa_avx512_core:
      return "avx512_core";
    case dnnl_cpu_isa_avx512_core_vnni:
      return "avx512_core_vnni";
    case dnnl_cpu_isa_avx512_core_bf16:
      return "avx512_core_bf16";
    case dnnl_cpu_isa_avx512_core_amx:
      return "avx512_core_amx";
    default:
      return fmt::format("oneDNN isa {:#x}", static_cast<int>(dnnl_get_effective_cpu_isa()));
  }
}

}  // namespace sculpt::kernels

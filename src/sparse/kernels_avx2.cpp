// AVX2 + FMA kernels, for x86 CPUs without AVX-512: the structure of kernels_avx512.cpp with
// 8-wide registers (spmm panels of 64 columns), without its chunk sharing in spmv. spmv
// finishes a row's last < 8 nonzeros in scalar code; spmm masks its column tail with
// maskload/maskstore, which do not fault on masked-off lanes.
#include "sparse/kernels.h"

#if SCULPT_SPARSE_X86
#include <immintrin.h>

#include <algorithm>
#include <cstring>

#define SCULPT_AVX2 __attribute__((target("avx2,fma")))

namespace sculpt::sparse::detail {

namespace {

// x[c[0..7]]: scalar loads and inserts, which on AMD CPUs beat vgatherdps (about 2x on
// Zen 5); the four 16-bit indices of a half come from one 64-bit load.
SCULPT_AVX2 inline __m128 load4(const float* x, const uint16_t* c) {
  uint64_t q;
  std::memcpy(&q, c, sizeof q);
  __m128 r = _mm_load_ss(x + (q & 0xFFFF));
  r = _mm_insert_ps(r, _mm_load_ss(x + ((q >> 16) & 0xFFFF)), 0x10);
  r = _mm_insert_ps(r, _mm_load_ss(x + ((q >> 32) & 0xFFFF)), 0x20);
  return _mm_insert_ps(r, _mm_load_ss(x + (q >> 48)), 0x30);
}
SCULPT_AVX2 inline __m256 load8(const float* x, const uint16_t* c) {
  return _mm256_insertf128_ps(_mm256_castps128_ps256(load4(x, c)), load4(x, c + 4), 1);
}
SCULPT_AVX2 inline __m256 load8(const float* x, const uint32_t* c) {
  return _mm256_setr_ps(x[c[0]], x[c[1]], x[c[2]], x[c[3]], x[c[4]], x[c[5]], x[c[6]], x[c[7]]);
}

SCULPT_AVX2 inline float hsum(__m256 v) {
  __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  s = _mm_add_ps(s, _mm_movehl_ps(s, s));
  s = _mm_add_ss(s, _mm_movehdup_ps(s));
  return _mm_cvtss_f32(s);
}

template <class Col>
SCULPT_AVX2 void spmv_rows(const Csr& a, const Col* col, int64_t r0, int64_t r1, const float* x,
                           const float* bias, float* y, bool relu) {
  const uint32_t* rp = a.row_ptr.data();
  const float* v = a.values.data();
  for (int64_t r = r0; r < r1; ++r) {
    uint32_t p = rp[r];
    const uint32_t e = rp[r + 1];
    __m256 acc0 = _mm256_setzero_ps(), acc1 = _mm256_setzero_ps();
    for (; p + 16 <= e; p += 16) {
      acc0 = _mm256_fmadd_ps(_mm256_loadu_ps(v + p), load8(x, col + p), acc0);
      acc1 = _mm256_fmadd_ps(_mm256_loadu_ps(v + p + 8), load8(x, col + p + 8), acc1);
    }
    if (p + 8 <= e) {
      acc0 = _mm256_fmadd_ps(_mm256_loadu_ps(v + p), load8(x, col + p), acc0);
      p += 8;
    }
    float s = hsum(_mm256_add_ps(acc0, acc1));
    for (; p < e; ++p) s += v[p] * x[col[p]];
    s += bias ? bias[r] : 0.0f;
    y[r] = relu ? (s > 0.0f ? s : 0.0f) : s;
  }
}

template <int NB, bool kTail, class Col>
SCULPT_AVX2 void spmm_panel(const Csr& a, const Col* col, int64_t r0, int64_t r1, const float* X,
                            int64_t ldx, const float* bias, float* Y, int64_t ldy, __m256i tail,
                            bool relu) {
  const uint32_t* rp = a.row_ptr.data();
  const float* v = a.values.data();
  const __m256 zero = _mm256_setzero_ps();
  for (int64_t r = r0; r < r1; ++r) {
    __m256 acc[NB];
    const __m256 b = _mm256_set1_ps(bias ? bias[r] : 0.0f);
#pragma GCC unroll 8
    for (int i = 0; i < NB; ++i) acc[i] = b;
    for (uint32_t p = rp[r], e = rp[r + 1]; p < e; ++p) {
      const float* xr = X + static_cast<int64_t>(col[p]) * ldx;
      const __m256 w = _mm256_set1_ps(v[p]);
#pragma GCC unroll 8
      for (int i = 0; i < NB; ++i) {
        const __m256 xv = (kTail && i == NB - 1) ? _mm256_maskload_ps(xr + 8 * i, tail)
                                                 : _mm256_loadu_ps(xr + 8 * i);
        acc[i] = _mm256_fmadd_ps(w, xv, acc[i]);
      }
    }
    float* yr = Y + r * ldy;
#pragma GCC unroll 8
    for (int i = 0; i < NB; ++i) {
      // max(acc, 0) returns the second operand for NaN: 0, as the scalar y > 0 ? y : 0.
      const __m256 out = relu ? _mm256_max_ps(acc[i], zero) : acc[i];
      if (kTail && i == NB - 1)
        _mm256_maskstore_ps(yr + 8 * i, tail, out);
      else
        _mm256_storeu_ps(yr + 8 * i, out);
    }
  }
}

template <class Col>
SCULPT_AVX2 void spmm_rows(const Csr& a, const Col* col, int64_t r0, int64_t r1, int64_t j0,
                           int64_t j1, const float* X, int64_t ldx, const float* bias, float* Y,
                           int64_t ldy, bool relu) {
  constexpr int64_t kPanel = 64;
  int64_t j = j0;
  const __m256i all = _mm256_set1_epi32(-1);
  for (; j + kPanel <= j1; j += kPanel)
    spmm_panel<8, false>(a, col, r0, r1, X + j, ldx, bias, Y + j, ldy, all, relu);
  if (j == j1) return;
  const int64_t rem = j1 - j;
  const int last = static_cast<int>(rem % 8 ? rem % 8 : 8);
  // Lane i is on (sign bit set) when i < last.
  const __m256i tail =
      _mm256_cmpgt_epi32(_mm256_set1_epi32(last), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
  const float* Xj = X + j;
  float* Yj = Y + j;
  // spmm_panel<NB, true> for NB = 1..8 vectors of 8: the tail panel is as wide as the rest.
  using Panel = void (*)(const Csr&, const Col*, int64_t, int64_t, const float*, int64_t,
                         const float*, float*, int64_t, __m256i, bool);
  static constexpr Panel kTailPanels[] = {spmm_panel<1, true, Col>, spmm_panel<2, true, Col>,
                                          spmm_panel<3, true, Col>, spmm_panel<4, true, Col>,
                                          spmm_panel<5, true, Col>, spmm_panel<6, true, Col>,
                                          spmm_panel<7, true, Col>, spmm_panel<8, true, Col>};
  const int64_t vectors = std::min<int64_t>((rem + 7) / 8, 8);
  kTailPanels[vectors - 1](a, col, r0, r1, Xj, ldx, bias, Yj, ldy, tail, relu);
}

}  // namespace

void spmv_avx2(const Csr& a, int64_t r0, int64_t r1, const float* x, const float* bias, float* y,
               Act act) {
  const bool relu = act == Act::kRelu;
  if (a.narrow())
    spmv_rows(a, a.col16.data(), r0, r1, x, bias, y, relu);
  else
    spmv_rows(a, a.col32.data(), r0, r1, x, bias, y, relu);
}

void spmm_avx2(const Csr& a, int64_t r0, int64_t r1, int64_t j0, int64_t j1, const float* X,
               int64_t ldx, const float* bias, float* Y, int64_t ldy, Act act) {
  const bool relu = act == Act::kRelu;
  if (a.narrow())
    spmm_rows(a, a.col16.data(), r0, r1, j0, j1, X, ldx, bias, Y, ldy, relu);
  else
    spmm_rows(a, a.col32.data(), r0, r1, j0, j1, X, ldx, bias, Y, ldy, relu);
}

}  // namespace sculpt::sparse::detail

#endif  // SCULPT_SPARSE_X86

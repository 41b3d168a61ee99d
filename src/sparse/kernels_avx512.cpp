// AVX-512 kernels (F + BW + VL), compiled through target attributes and called only after the
// run-time CPU check in dispatch.cpp. spmv assembles x at 16 column indices at a time and
// FMAs with 16 values; spmm keeps up to 128 output columns of one row in 8 zmm accumulators
// while it walks the row's nonzeros.
// Tails use masked loads/stores (masked-off lanes are never touched), so nothing past the end
// of the matrix arrays, of a row of X or of a row of Y is read or written.
#include "sparse/kernels.h"

#if SCULPT_SPARSE_X86
// GCC 12.2's intrinsics seed results with _mm512_undefined_*(), which -W(maybe-)uninitialized
// flags at every inlined use (GCC bug 105593, fixed in 12.3): silence that false positive only.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#pragma GCC diagnostic ignored "-Wuninitialized"
#endif
#include <immintrin.h>

#include <algorithm>
#include <cstring>

#define SCULPT_AVX512 __attribute__((target("avx512f,avx512bw,avx512vl")))

namespace sculpt::sparse::detail {

namespace {

// x[c[0..3]] into one xmm: scalar loads and inserts. On Zen 5 this assembles 16 values in
// about 11 cycles where vgatherdps takes about 19 (and the gather intrinsics do not build at
// -O0 after fmt's "GCC optimize" pragma in the precompiled header). The four 16-bit indices
// come from one 64-bit load.
#define SCULPT_AVX512_INLINE SCULPT_AVX512 __attribute__((always_inline)) inline

SCULPT_AVX512_INLINE __m128 load4(const float* x, const uint16_t* c) {
  uint64_t q;
  std::memcpy(&q, c, sizeof q);
  __m128 r = _mm_load_ss(x + (q & 0xFFFF));
  r = _mm_insert_ps(r, _mm_load_ss(x + ((q >> 16) & 0xFFFF)), 0x10);
  r = _mm_insert_ps(r, _mm_load_ss(x + ((q >> 32) & 0xFFFF)), 0x20);
  return _mm_insert_ps(r, _mm_load_ss(x + (q >> 48)), 0x30);
}
SCULPT_AVX512_INLINE __m128 load4(const float* x, const uint32_t* c) {
  return _mm_setr_ps(x[c[0]], x[c[1]], x[c[2]], x[c[3]]);
}
template <class Col>
SCULPT_AVX512_INLINE __m512 load16(const float* x, const Col* c) {
  const __m256 lo = _mm256_insertf128_ps(_mm256_castps128_ps256(load4(x, c)), load4(x, c + 4), 1);
  const __m256 hi =
      _mm256_insertf128_ps(_mm256_castps128_ps256(load4(x, c + 8)), load4(x, c + 12), 1);
  // insertf64x4 (AVX512F) rather than insertf32x8, which needs AVX512DQ.
  return _mm512_castpd_ps(
      _mm512_insertf64x4(_mm512_castpd256_pd512(_mm256_castps_pd(lo)), _mm256_castps_pd(hi), 1));
}
// x at the k < 16 indices c[0..k), zeros after: for the matrix's last nonzeros, where reading
// 16 indices would run past the array.
template <class Col>
SCULPT_AVX512 inline __m512 load_partial(const float* x, const Col* c, uint32_t k) {
  alignas(64) float buf[16] = {};
  for (uint32_t i = 0; i < k; ++i) buf[i] = x[c[i]];
  return _mm512_load_ps(buf);
}

// spmv walks rows in order over the flat nonzero arrays, 16 nonzeros at a time from the row's
// start. A row's last partial chunk is shared with the next row when that row covers the rest
// of it: x is assembled once and the other lanes' products carried over, so no lane is loaded
// twice (padding costs ~25% on rows of ~40 nonzeros). Sharing never crosses into a row whose
// index is a multiple of 16, and threads start at such rows, so results do not depend on the
// thread count.
template <class Col>
struct RowWalk {
  const float* v;
  const Col* col;
  const uint32_t* rp;
  const float* x;
  uint32_t nnz;
  int64_t r1;  // the walk's end: no carry into rows past it
  uint32_t p;  // first nonzero not yet accounted for
  __m512 carry = _mm512_setzero_ps();
};

// Row r's 16 partial sums of A[r, k] * x[k].
template <class Col>
SCULPT_AVX512_INLINE __m512 walk_row(RowWalk<Col>& w, int64_t r) {
  if (r >= w.r1) return _mm512_setzero_ps();  // padding of a last, partial group
  __m512 acc = w.carry;
  uint32_t p = w.p;
  const uint32_t e = w.rp[r + 1];
  for (; p + 16 <= e; p += 16)
    acc = _mm512_fmadd_ps(_mm512_loadu_ps(w.v + p), load16(w.x, w.col + p), acc);
  __m512 carry = _mm512_setzero_ps();
  uint32_t next = e;
  if (p < e) {
    const auto m = static_cast<__mmask16>((1u << (e - p)) - 1);
    if (p + 16 <= w.nnz) {
      // Lanes past e hold the next rows' nonzeros: valid columns, masked out of this row.
      const __m512 prod = _mm512_mul_ps(_mm512_loadu_ps(w.v + p), load16(w.x, w.col + p));
      acc = _mm512_mask_add_ps(acc, m, acc, prod);
      // Selects, not branches: whether the next row is long enough varies row to row.
      const bool share = (r + 1) % 16 != 0 && r + 1 < w.r1 && w.rp[r + 2] >= p + 16;
      carry = _mm512_maskz_mov_ps(share ? static_cast<__mmask16>(~m) : __mmask16{0}, prod);
      next = share ? p + 16 : e;
    } else {  // the matrix's last nonzeros: nothing past e may be read
      const __m512 xs = load_partial(w.x, w.col + p, e - p);
      acc = _mm512_mask3_fmadd_ps(_mm512_maskz_loadu_ps(m, w.v + p), xs, acc, m);
    }
  }
  w.p = next;
  w.carry = carry;
  return acc;
}

// Sums of 2^L consecutive rows from r, 16 / 2^L lanes per row in row order. Each level adds
// neighbouring lane pairs of two halves, so 16 rows cost 15 merges (2 permutes + 1 add each)
// instead of 16 full horizontal reductions; lane i of the level-4 result is row r + i.
template <int L, class Col>
SCULPT_AVX512_INLINE __m512 walk_rows(RowWalk<Col>& w, int64_t r) {
  if constexpr (L == 0) {
    return walk_row(w, r);
  } else {
    const __m512 lo = walk_rows<L - 1>(w, r);
    const __m512 hi = walk_rows<L - 1>(w, r + (int64_t{1} << (L - 1)));
    const __m512i even =
        _mm512_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);
    const __m512i odd =
        _mm512_setr_epi32(1, 3, 5, 7, 9, 11, 13, 15, 17, 19, 21, 23, 25, 27, 29, 31);
    return _mm512_add_ps(_mm512_permutex2var_ps(lo, even, hi), _mm512_permutex2var_ps(lo, odd, hi));
  }
}

template <class Col>
SCULPT_AVX512 void spmv_rows(const Csr& a, const Col* col, int64_t r0, int64_t r1, const float* x,
                             const float* bias, float* y, bool relu) {
  RowWalk<Col> w{.v = a.values.data(),
                 .col = col,
                 .rp = a.row_ptr.data(),
                 .x = x,
                 .nnz = static_cast<uint32_t>(a.nnz()),
                 .r1 = r1,
                 .p = a.row_ptr[static_cast<size_t>(r0)]};
  const __m512 zero = _mm512_setzero_ps();
  for (int64_t r = r0; r < r1; r += 16) {
    // A last group of fewer than 16 rows is padded with empty rows, and its store masked.
    const auto m = static_cast<__mmask16>(r1 - r >= 16 ? 0xFFFFu : (1u << (r1 - r)) - 1);
    __m512 s = walk_rows<4>(w, r);
    if (bias) s = _mm512_add_ps(s, _mm512_maskz_loadu_ps(m, bias + r));
    // max(s, 0) returns the second operand for NaN: 0, as the scalar y > 0 ? y : 0.
    if (relu) s = _mm512_max_ps(s, zero);
    _mm512_mask_storeu_ps(y + r, m, s);
  }
}

// One panel of NB x 16 columns for rows [r0, r1); the last register is masked when kTail.
// X and Y point at the panel's first column. Loops over i are unrolled so acc stays in zmm.
template <int NB, bool kTail, class Col>
SCULPT_AVX512 void spmm_panel(const Csr& a, const Col* col, int64_t r0, int64_t r1, const float* X,
                              int64_t ldx, const float* bias, float* Y, int64_t ldy, __mmask16 tail,
                              bool relu) {
  const uint32_t* rp = a.row_ptr.data();
  const float* v = a.values.data();
  const __m512 zero = _mm512_setzero_ps();
  for (int64_t r = r0; r < r1; ++r) {
    __m512 acc[NB];
    const __m512 b = _mm512_set1_ps(bias ? bias[r] : 0.0f);
#pragma GCC unroll 8
    for (int i = 0; i < NB; ++i) acc[i] = b;
    for (uint32_t p = rp[r], e = rp[r + 1]; p < e; ++p) {
      const float* xr = X + static_cast<int64_t>(col[p]) * ldx;
      const __m512 w = _mm512_set1_ps(v[p]);
#pragma GCC unroll 8
      for (int i = 0; i < NB; ++i) {
        const __m512 xv = (kTail && i == NB - 1) ? _mm512_maskz_loadu_ps(tail, xr + 16 * i)
                                                 : _mm512_loadu_ps(xr + 16 * i);
        acc[i] = _mm512_fmadd_ps(w, xv, acc[i]);
      }
    }
    float* yr = Y + r * ldy;
#pragma GCC unroll 8
    for (int i = 0; i < NB; ++i) {
      // max(acc, 0) returns the second operand for NaN: 0, as the scalar y > 0 ? y : 0.
      const __m512 out = relu ? _mm512_max_ps(acc[i], zero) : acc[i];
      if (kTail && i == NB - 1)
        _mm512_mask_storeu_ps(yr + 16 * i, tail, out);
      else
        _mm512_storeu_ps(yr + 16 * i, out);
    }
  }
}

template <class Col>
SCULPT_AVX512 void spmm_rows(const Csr& a, const Col* col, int64_t r0, int64_t r1, int64_t j0,
                             int64_t j1, const float* X, int64_t ldx, const float* bias, float* Y,
                             int64_t ldy, bool relu) {
  // Column panels outside the row loop: a 128-column slice of X (512 B per row) is what the
  // rows share, and it stays in L2 while every row of the range walks over it.
  constexpr int64_t kPanel = 128;
  int64_t j = j0;
  for (; j + kPanel <= j1; j += kPanel)
    spmm_panel<8, false>(a, col, r0, r1, X + j, ldx, bias, Y + j, ldy, 0xFFFF, relu);
  if (j == j1) return;
  const int64_t rem = j1 - j;
  const auto tail = static_cast<__mmask16>(rem % 16 ? (1u << (rem % 16)) - 1 : 0xFFFFu);
  const float* Xj = X + j;
  float* Yj = Y + j;
  // spmm_panel<NB, true> for NB = 1..8 vectors of 16: the tail panel is as wide as the rest.
  using Panel = void (*)(const Csr&, const Col*, int64_t, int64_t, const float*, int64_t,
                         const float*, float*, int64_t, __mmask16, bool);
  static constexpr Panel kTailPanels[] = {spmm_panel<1, true, Col>, spmm_panel<2, true, Col>,
                                          spmm_panel<3, true, Col>, spmm_panel<4, true, Col>,
                                          spmm_panel<5, true, Col>, spmm_panel<6, true, Col>,
                                          spmm_panel<7, true, Col>, spmm_panel<8, true, Col>};
  const int64_t vectors = std::min<int64_t>((rem + 15) / 16, 8);
  kTailPanels[vectors - 1](a, col, r0, r1, Xj, ldx, bias, Yj, ldy, tail, relu);
}

// acc + (x at slot s's lanes) * (its values). Two vector loads cover the slot's window and a
// permute puts the lanes' columns in place; lanes whose value is exactly 0 are unused and get
// x = 0 (NaN values count as used, as in Csr), so a non-finite x elsewhere stays out.
SCULPT_AVX512_INLINE __m512 slot_product(const Windowed& a, const float* x, uint32_t s,
                                         __m512 acc) {
  const float* xw = x + a.base[s];
  const __m512 v = _mm512_load_ps(a.values.data() + size_t{s} * 16);
  const __m512i idx = _mm512_cvtepu8_epi32(
      _mm_loadu_si128(reinterpret_cast<const __m128i*>(a.lane_col.data() + size_t{s} * 16)));
  const __mmask16 used = _mm512_cmp_ps_mask(v, _mm512_setzero_ps(), _CMP_NEQ_UQ);
  const __m512 xv =
      _mm512_maskz_permutex2var_ps(used, _mm512_loadu_ps(xw), idx, _mm512_loadu_ps(xw + 16));
  return _mm512_fmadd_ps(xv, v, acc);
}

}  // namespace

// The target attribute matters when the file is built without -march=native (the fuzz build).
SCULPT_AVX512 void spmv_windowed_avx512(const Windowed& a, int64_t g0, int64_t g1, const float* x,
                                        const float* bias, float* y, Act act) {
  const __m512 zero = _mm512_setzero_ps();
  for (int64_t g = g0; g < g1; ++g) {
    uint32_t s = a.group_slots[static_cast<size_t>(g)];
    const uint32_t e = a.group_slots[static_cast<size_t>(g) + 1];
    __m512 a0 = zero, a1 = zero, a2 = zero, a3 = zero;  // slot j of the group goes to a(j % 4)
    for (; s + 4 <= e; s += 4) {
      a0 = slot_product(a, x, s, a0);
      a1 = slot_product(a, x, s + 1, a1);
      a2 = slot_product(a, x, s + 2, a2);
      a3 = slot_product(a, x, s + 3, a3);
    }
    if (s < e) a0 = slot_product(a, x, s, a0);
    if (s + 1 < e) a1 = slot_product(a, x, s + 1, a1);
    if (s + 2 < e) a2 = slot_product(a, x, s + 2, a2);
    __m512 sum = _mm512_add_ps(_mm512_add_ps(a0, a1), _mm512_add_ps(a2, a3));
    const int64_t r = g * 16;
    const auto m = static_cast<__mmask16>(a.rows - r >= 16 ? 0xFFFFu : (1u << (a.rows - r)) - 1);
    if (bias) sum = _mm512_add_ps(sum, _mm512_maskz_loadu_ps(m, bias + r));
    // max(s, 0) returns the second operand for NaN: 0, as the scalar y > 0 ? y : 0.
    if (act == Act::kRelu) sum = _mm512_max_ps(sum, zero);
    _mm512_mask_storeu_ps(y + r, m, sum);
  }
}

void spmv_avx512(const Csr& a, int64_t r0, int64_t r1, const float* x, const float* bias, float* y,
                 Act act) {
  const bool relu = act == Act::kRelu;
  if (a.narrow())
    spmv_rows(a, a.col16.data(), r0, r1, x, bias, y, relu);
  else
    spmv_rows(a, a.col32.data(), r0, r1, x, bias, y, relu);
}

void spmm_avx512(const Csr& a, int64_t r0, int64_t r1, int64_t j0, int64_t j1, const float* X,
                 int64_t ldx, const float* bias, float* Y, int64_t ldy, Act act) {
  const bool relu = act == Act::kRelu;
  if (a.narrow())
    spmm_rows(a, a.col16.data(), r0, r1, j0, j1, X, ldx, bias, Y, ldy, relu);
  else
    spmm_rows(a, a.col32.data(), r0, r1, j0, j1, X, ldx, bias, Y, ldy, relu);
}

}  // namespace sculpt::sparse::detail

#endif  // SCULPT_SPARSE_X86

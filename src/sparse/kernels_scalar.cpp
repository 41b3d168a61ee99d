// Portable kernels: the fallback on CPUs without AVX2, and the baseline the SIMD ones are
// tested against (through force_kernel_isa("scalar")). Float accumulation, like the fast ones.
#include <algorithm>

#include "sparse/kernels.h"

namespace sculpt::sparse::detail {

namespace {

inline float activate(float y, Act act) { return act == Act::kRelu ? (y > 0.0f ? y : 0.0f) : y; }

template <class Col>
void spmv_rows(const Csr& a, const Col* col, int64_t r0, int64_t r1, const float* x,
               const float* bias, float* y, Act act) {
  const uint32_t* rp = a.row_ptr.data();
  const float* v = a.values.data();
  for (int64_t r = r0; r < r1; ++r) {
    float acc = bias ? bias[r] : 0.0f;
    for (uint32_t p = rp[r]; p < rp[r + 1]; ++p) acc += v[p] * x[col[p]];
    y[r] = activate(acc, act);
  }
}

// Y[r, jb .. jb + W) for W columns; a compile-time W lets the compiler keep acc in registers.
template <int64_t W, class Col>
void spmm_block(const float* v, const Col* col, uint32_t p0, uint32_t p1, const float* X,
                int64_t ldx, float b, float* yr, int64_t w, Act act) {
  float acc[W > 0 ? W : 64];
  const int64_t width = W > 0 ? W : w;
  for (int64_t j = 0; j < width; ++j) acc[j] = b;
  for (uint32_t p = p0; p < p1; ++p) {
    const float* xr = X + static_cast<int64_t>(col[p]) * ldx;
    for (int64_t j = 0; j < width; ++j) acc[j] += v[p] * xr[j];
  }
  for (int64_t j = 0; j < width; ++j) yr[j] = activate(acc[j], act);
}

template <class Col>
void spmm_rows(const Csr& a, const Col* col, int64_t r0, int64_t r1, int64_t j0, int64_t j1,
               const float* X, int64_t ldx, const float* bias, float* Y, int64_t ldy, Act act) {
  // Columns in blocks of 64: a slice of X rows shared by all rows of the range.
  constexpr int64_t kBlock = 64;
  const uint32_t* rp = a.row_ptr.data();
  const float* v = a.values.data();
  for (int64_t jb = j0; jb < j1; jb += kBlock) {
    const int64_t w = std::min(kBlock, j1 - jb);
    for (int64_t r = r0; r < r1; ++r) {
      const float b = bias ? bias[r] : 0.0f;
      float* yr = Y + r * ldy + jb;
      if (w == kBlock)
        spmm_block<kBlock>(v, col, rp[r], rp[r + 1], X + jb, ldx, b, yr, w, act);
      else
        spmm_block<0>(v, col, rp[r], rp[r + 1], X + jb, ldx, b, yr, w, act);
    }
  }
}

}  // namespace

void spmv_scalar(const Csr& a, int64_t r0, int64_t r1, const float* x, const float* bias, float* y,
                 Act act) {
  if (a.narrow())
    spmv_rows(a, a.col16.data(), r0, r1, x, bias, y, act);
  else
    spmv_rows(a, a.col32.data(), r0, r1, x, bias, y, act);
}

void spmm_scalar(const Csr& a, int64_t r0, int64_t r1, int64_t j0, int64_t j1, const float* X,
                 int64_t ldx, const float* bias, float* Y, int64_t ldy, Act act) {
  if (a.narrow())
    spmm_rows(a, a.col16.data(), r0, r1, j0, j1, X, ldx, bias, Y, ldy, act);
  else
    spmm_rows(a, a.col32.data(), r0, r1, j0, j1, X, ldx, bias, Y, ldy, act);
}

}  // namespace sculpt::sparse::detail

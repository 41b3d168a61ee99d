// im2col / col2im. Per row (ci, ki, kj) of the column matrix, each output row oy maps to one
// input row iy; the valid ox range is computed once so the inner loop is a plain (strided) copy.
#include "kernels/im2col.h"

#include <algorithm>
#include <cstring>

namespace sculpt::kernels {

namespace {

// Output columns ox whose input column ix = ox*s - p + kj lies in [0, w): [lo, hi).
inline void valid_range(int64_t kj, const ConvGeometry& g, int64_t ow, int64_t& lo, int64_t& hi) {
  const int64_t off = kj - g.pad;  // ix = ox*s + off
  lo = std::min(ow, off >= 0 ? 0 : (-off + g.stride - 1) / g.stride);
  hi = off >= g.w ? 0 : std::min(ow, (g.w - 1 - off) / g.stride + 1);
  if (hi < lo) hi = lo;
}

}  // namespace

void im2col(const float* img, const ConvGeometry& g, float* col) {
  const int64_t oh = g.oh(), ow = g.ow();
  for (int64_t ci = 0; ci < g.c; ++ci) {
    const float* plane = img + ci * g.h * g.w;
    for (int64_t ki = 0; ki < g.kh; ++ki) {
      for (int64_t kj = 0; kj < g.kw; ++kj) {
        float* row = col + ((ci * g.kh + ki) * g.kw + kj) * oh * ow;
        int64_t lo, hi;
        valid_range(kj, g, ow, lo, hi);
        const int64_t off = kj - g.pad;
        for (int64_t oy = 0; oy < oh; ++oy) {
          float* __restrict dst = row + oy * ow;
          const int64_t iy = oy * g.stride - g.pad + ki;
          if (iy < 0 || iy >= g.h) {
            std::memset(dst, 0, static_cast<size_t>(ow) * sizeof(float));
            continue;
          }
          const float* __restrict src = plane + iy * g.w + off;
          for (int64_t ox = 0; ox < lo; ++ox) dst[ox] = 0.0f;
          if (g.stride == 1) {
            // Rows are short (ow is 5..30 in small CNNs): a loop beats a memcpy call.
            for (int64_t ox = lo; ox < hi; ++ox) dst[ox] = src[ox];
          } else {
            for (int64_t ox = lo; ox < hi; ++ox) dst[ox] = src[ox * g.stride];
          }
          for (int64_t ox = hi; ox < ow; ++ox) dst[ox] = 0.0f;
        }
      }
    }
  }
}

void col2im(const float* col, const ConvGeometry& g, float* img) {
  const int64_t oh = g.oh(), ow = g.ow();
  std::memset(img, 0, static_cast<size_t>(g.c * g.h * g.w) * sizeof(float));
  for (int64_t ci = 0; ci < g.c; ++ci) {
    float* plane = img + ci * g.h * g.w;
    for (int64_t ki = 0; ki < g.kh; ++ki) {
      for (int64_t kj = 0; kj < g.kw; ++kj) {
        const float* row = col + ((ci * g.kh + ki) * g.kw + kj) * oh * ow;
        int64_t lo, hi;
        valid_range(kj, g, ow, lo, hi);
        const int64_t off = kj - g.pad;
        for (int64_t oy = 0; oy < oh; ++oy) {
          const int64_t iy = oy * g.stride - g.pad + ki;
          if (iy < 0 || iy >= g.h) continue;
          const float* __restrict src = row + oy * ow;
          float* __restrict dst = plane + iy * g.w + off;
          if (g.stride == 1) {
            for (int64_t ox = lo; ox < hi; ++ox) dst[ox] += src[ox];
          } else {
            for (int64_t ox = lo; ox < hi; ++ox) dst[ox * g.stride] += src[ox];
          }
        }
      }
    }
  }
}

}  // namespace sculpt::kernels

// im2col / col2im. Per row (ci, ki, kj) of the column matrix, each output row oy maps to one
// input row iy; the valid ox range is computed once so the inner loop is a plain (strided) copy.
#include "kernels/im2col.h"

#include <algorithm>
#include <cstdlib>
#include <cstring>

namespace sculpt::kernels {

const char* conv_path_override() {
  static const char* v = std::getenv("SCULPT_CONV");
  return v ? v : "auto";
}

namespace {

// Output columns ox whose input column ix = ox*s - p + kj lies in [0, w): [lo, hi).
inline void valid_range(int64_t kj, const ConvGeometry& g, int64_t ow, int64_t& lo, int64_t& hi) {
  const int64_t off = kj - g.pad;  // ix = ox*s + off
  lo = std::min(ow, off >= 0 ? 0 : (-off + g.stride - 1) / g.stride);
  hi = off >= g.w ? 0 : std::min(ow, (g.w - 1 - off) / g.stride + 1);
  if (hi < lo) hi = lo;
}

}  // namespace

namespace {

// Stride 1 with the output as wide as the input ("same" padding): row (ci, ki, kj) is the plane
// shifted by (ki - pad) rows and (kj - pad) columns, so one contiguous copy fills it; then the
// entries that wrapped around a row's end are zeroed, and the rows above or below the image.
void im2col_same(const float* img, const ConvGeometry& g, float* col, int64_t ld) {
  const int64_t oh = g.oh(), w = g.w;
  for (int64_t ci = 0; ci < g.c; ++ci) {
    const float* __restrict plane = img + ci * g.h * w;
    for (int64_t ki = 0; ki < g.kh; ++ki) {
      const int64_t dy = ki - g.pad;
      const int64_t y0 = std::max<int64_t>(0, -dy), y1 = std::min(oh, g.h - dy);
      for (int64_t kj = 0; kj < g.kw; ++kj) {
        const int64_t dx = kj - g.pad;
        float* __restrict row = col + ((ci * g.kh + ki) * g.kw + kj) * ld;
        if (y1 <= y0 || dx <= -w || dx >= w) {  // every entry falls in the padding
          std::memset(row, 0, static_cast<size_t>(oh * w) * sizeof(float));
          continue;
        }
        std::memset(row, 0, static_cast<size_t>(y0 * w) * sizeof(float));
        std::memset(row + y1 * w, 0, static_cast<size_t>((oh - y1) * w) * sizeof(float));
        // Entries [lo, hi) read plane[j + dy * w + dx]; the first -dx (or the last dx) of them
        // would read outside the plane and are zero anyway. With |dx| < w, [a, b) reads
        // plane[(y0 + dy) * w] to plane[(y1 + dy) * w - 1], inside it.
        const int64_t left = std::max<int64_t>(0, -dx), right = std::max<int64_t>(0, dx);
        const int64_t lo = y0 * w, hi = y1 * w, a = lo + left, b = hi - right;
        const int64_t shift = dy * w + dx;  // an index offset: plane + shift may lie before it
        for (int64_t j = lo; j < a; ++j) row[j] = 0.0f;
        for (int64_t j = a; j < b; ++j) row[j] = plane[j + shift];
        for (int64_t j = b; j < hi; ++j) row[j] = 0.0f;
        // Columns that wrapped: ox < -dx (they read the previous row's end) or ox >= w - dx.
        for (int64_t y = y0; y < y1 && (left > 0 || right > 0); ++y) {
          std::fill_n(row + y * w, left, 0.0f);
          std::fill_n(row + y * w + w - right, right, 0.0f);
        }
      }
    }
  }
}

// The adjoint of im2col_same: the entries that wrapped around a row are zeroed in `col`, then
// each row's valid block is added to the shifted plane in one contiguous pass.
void col2im_same(float* col, const ConvGeometry& g, float* img, int64_t ld) {
  const int64_t oh = g.oh(), w = g.w;
  for (int64_t ci = 0; ci < g.c; ++ci) {
    float* __restrict plane = img + ci * g.h * w;
    for (int64_t ki = 0; ki < g.kh; ++ki) {
      const int64_t dy = ki - g.pad;
      const int64_t y0 = std::max<int64_t>(0, -dy), y1 = std::min(oh, g.h - dy);
      if (y1 <= y0) continue;
      for (int64_t kj = 0; kj < g.kw; ++kj) {
        const int64_t dx = kj - g.pad;
        if (dx <= -w || dx >= w) continue;  // every column falls in the padding
        float* __restrict row = col + ((ci * g.kh + ki) * g.kw + kj) * ld;
        const int64_t left = std::max<int64_t>(0, -dx), right = std::max<int64_t>(0, dx);
        for (int64_t y = y0; y < y1 && (left > 0 || right > 0); ++y) {
          std::fill_n(row + y * w, left, 0.0f);
          std::fill_n(row + y * w + w - right, right, 0.0f);
        }
        const int64_t a = y0 * w + left, b = y1 * w - right;  // inside the plane: see above
        const int64_t shift = dy * w + dx;
        for (int64_t j = a; j < b; ++j) plane[j + shift] += row[j];
      }
    }
  }
}

}  // namespace

void im2col(const float* img, const ConvGeometry& g, float* col, int64_t ld) {
  const int64_t oh = g.oh(), ow = g.ow();
  if (ld == 0) ld = oh * ow;
  if (g.stride == 1 && ow == g.w && oh == g.h) return im2col_same(img, g, col, ld);
  for (int64_t ci = 0; ci < g.c; ++ci) {
    const float* plane = img + ci * g.h * g.w;
    for (int64_t ki = 0; ki < g.kh; ++ki) {
      for (int64_t kj = 0; kj < g.kw; ++kj) {
        float* row = col + ((ci * g.kh + ki) * g.kw + kj) * ld;
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

void col2im(float* col, const ConvGeometry& g, float* img, int64_t ld) {
  const int64_t oh = g.oh(), ow = g.ow();
  if (ld == 0) ld = oh * ow;
  std::memset(img, 0, static_cast<size_t>(g.c * g.h * g.w) * sizeof(float));
  if (g.stride == 1 && ow == g.w && oh == g.h) return col2im_same(col, g, img, ld);
  for (int64_t ci = 0; ci < g.c; ++ci) {
    float* plane = img + ci * g.h * g.w;
    for (int64_t ki = 0; ki < g.kh; ++ki) {
      for (int64_t kj = 0; kj < g.kw; ++kj) {
        const float* row = col + ((ci * g.kh + ki) * g.kw + kj) * ld;
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

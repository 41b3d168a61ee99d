// Max and average pooling over NCHW batches; parallel over (image, channel) planes when large.
#include "kernels/pooling.h"

#include <omp.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>

#include "core/parallel.h"

namespace sculpt::kernels {

namespace {

inline bool go_parallel(int64_t work) {
  return work >= kParallelThreshold && !omp_in_parallel() && omp_get_max_threads() > 1;
}

// Max over one window of one plane; first maximum wins, NaN propagates (as PyTorch).
inline void max_window(const float* plane, const PoolGeometry& g, int64_t oy, int64_t ox,
                       float& best, int32_t& arg) {
  const int64_t y0 = oy * g.stride - g.pad, x0 = ox * g.stride - g.pad;
  const int64_t ya = std::max<int64_t>(y0, 0), yb = std::min(y0 + g.k, g.h);
  const int64_t xa = std::max<int64_t>(x0, 0), xb = std::min(x0 + g.k, g.w);
  best = -std::numeric_limits<float>::infinity();
  arg = static_cast<int32_t>(ya * g.w + xa);
  for (int64_t y = ya; y < yb; ++y)
    for (int64_t x = xa; x < xb; ++x) {
      const float v = plane[y * g.w + x];
      if (v > best || std::isnan(v)) {
        best = v;
        arg = static_cast<int32_t>(y * g.w + x);
        if (std::isnan(v)) return;
      }
    }
}

}  // namespace

void maxpool2d_forward(const float* x, int64_t n, const PoolGeometry& g, float* y,
                       int32_t* argmax) {
  const int64_t planes = n * g.c, oh = g.oh(), ow = g.ow(), in_pl = g.h * g.w, out_pl = oh * ow;
  const bool k2 = g.k == 2 && g.stride == 2 && g.pad == 0;
#pragma omp parallel for schedule(static) if (go_parallel(planes * in_pl))
  for (int64_t p = 0; p < planes; ++p) {
    const float* plane = x + p * in_pl;
    float* yp = y + p * out_pl;
    int32_t* ap = argmax + p * out_pl;
    for (int64_t oy = 0; oy < oh; ++oy) {
      for (int64_t ox = 0; ox < ow; ++ox) {
        if (k2) {
          // The common 2x2/2 case, unrolled; same scan order as the generic window.
          const int64_t i0 = 2 * oy * g.w + 2 * ox;
          const int64_t idx[4] = {i0, i0 + 1, i0 + g.w, i0 + g.w + 1};
          float best = plane[idx[0]];
          int64_t arg = idx[0];
          for (int t = 1; t < 4; ++t) {
            const float v = plane[idx[t]];
            if (v > best || (std::isnan(v) && !std::isnan(best))) best = v, arg = idx[t];
          }
          yp[oy * ow + ox] = best;
          ap[oy * ow + ox] = static_cast<int32_t>(arg);
        } else {
          max_window(plane, g, oy, ox, yp[oy * ow + ox], ap[oy * ow + ox]);
        }
      }
    }
  }
}

void maxpool2d_backward(const float* dy, const int32_t* argmax, int64_t n, const PoolGeometry& g,
                        float* dx) {
  const int64_t planes = n * g.c, in_pl = g.h * g.w, out_pl = g.oh() * g.ow();
#pragma omp parallel for schedule(static) if (go_parallel(planes * in_pl))
  for (int64_t p = 0; p < planes; ++p) {
    float* dxp = dx + p * in_pl;
    std::memset(dxp, 0, static_cast<size_t>(in_pl) * sizeof(float));
    const float* dyp = dy + p * out_pl;
    const int32_t* ap = argmax + p * out_pl;
    for (int64_t o = 0; o < out_pl; ++o) dxp[ap[o]] += dyp[o];
  }
}

void avgpool2d_forward(const float* x, int64_t n, const PoolGeometry& g, float* y) {
  const int64_t planes = n * g.c, oh = g.oh(), ow = g.ow(), in_pl = g.h * g.w, out_pl = oh * ow;
  // count_include_pad with ceil_mode=False: every window spans k*k padded positions.
  const float inv = 1.0f / static_cast<float>(g.k * g.k);
#pragma omp parallel for schedule(static) if (go_parallel(planes * in_pl))
  for (int64_t p = 0; p < planes; ++p) {
    const float* plane = x + p * in_pl;
    for (int64_t oy = 0; oy < oh; ++oy) {
      const int64_t y0 = oy * g.stride - g.pad;
      const int64_t ya = std::max<int64_t>(y0, 0), yb = std::min(y0 + g.k, g.h);
      for (int64_t ox = 0; ox < ow; ++ox) {
        const int64_t x0 = ox * g.stride - g.pad;
        const int64_t xa = std::max<int64_t>(x0, 0), xb = std::min(x0 + g.k, g.w);
        float acc = 0.0f;
        for (int64_t yy = ya; yy < yb; ++yy)
          for (int64_t xx = xa; xx < xb; ++xx) acc += plane[yy * g.w + xx];
        y[p * out_pl + oy * ow + ox] = acc * inv;
      }
    }
  }
}

void avgpool2d_backward(const float* dy, int64_t n, const PoolGeometry& g, float* dx) {
  const int64_t planes = n * g.c, oh = g.oh(), ow = g.ow(), in_pl = g.h * g.w, out_pl = oh * ow;
  const float inv = 1.0f / static_cast<float>(g.k * g.k);
#pragma omp parallel for schedule(static) if (go_parallel(planes * in_pl))
  for (int64_t p = 0; p < planes; ++p) {
    float* dxp = dx + p * in_pl;
    std::memset(dxp, 0, static_cast<size_t>(in_pl) * sizeof(float));
    for (int64_t oy = 0; oy < oh; ++oy) {
      const int64_t y0 = oy * g.stride - g.pad;
      const int64_t ya = std::max<int64_t>(y0, 0), yb = std::min(y0 + g.k, g.h);
      for (int64_t ox = 0; ox < ow; ++ox) {
        const int64_t x0 = ox * g.stride - g.pad;
        const int64_t xa = std::max<int64_t>(x0, 0), xb = std::min(x0 + g.k, g.w);
        const float d = dy[p * out_pl + oy * ow + ox] * inv;
        for (int64_t yy = ya; yy < yb; ++yy)
          for (int64_t xx = xa; xx < xb; ++xx) dxp[yy * g.w + xx] += d;
      }
    }
  }
}

}  // namespace sculpt::kernels

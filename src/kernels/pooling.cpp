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

// PyTorch's rule: a value replaces the running max when it is greater or NaN (so NaN wins).
inline bool takes_over(float v, float best) { return v > best || v != v; }

// The part of output position (oy, ox)'s window inside the image: rows [ya, yb), columns
// [xa, xb). Padding contributes nothing to either pooling.
struct Window {
  int64_t ya, yb, xa, xb;
};
inline Window window_at(const PoolGeometry& g, int64_t oy, int64_t ox) {
  const int64_t y0 = oy * g.stride - g.pad, x0 = ox * g.stride - g.pad;
  return {std::max<int64_t>(y0, 0), std::min(y0 + g.k, g.h), std::max<int64_t>(x0, 0),
          std::min(x0 + g.k, g.w)};
}

// Calls body(plane, output index, window) for every (image, channel) plane of the batch and
// every output position, parallel over planes when the batch is large.
template <class Body>
void for_each_window(int64_t n, const PoolGeometry& g, Body body) {
  const int64_t planes = n * g.c, oh = g.oh(), ow = g.ow();
#pragma omp parallel for schedule(static) if (go_parallel(planes * g.h * g.w))
  for (int64_t p = 0; p < planes; ++p)
    for (int64_t oy = 0; oy < oh; ++oy)
      for (int64_t ox = 0; ox < ow; ++ox) body(p, (p * oh + oy) * ow + ox, window_at(g, oy, ox));
}

// Max over one window of one plane; padding is -inf (never taken).
inline void max_window(const float* plane, const PoolGeometry& g, int64_t oy, int64_t ox,
                       float& best, int32_t& arg) {
  const auto [ya, yb, xa, xb] = window_at(g, oy, ox);
  best = -std::numeric_limits<float>::infinity();
  arg = static_cast<int32_t>(ya * g.w + xa);
  for (int64_t y = ya; y < yb; ++y)
    for (int64_t x = xa; x < xb; ++x) {
      const float v = plane[y * g.w + x];
      if (takes_over(v, best)) best = v, arg = static_cast<int32_t>(y * g.w + x);
    }
}

// The common 2x2 window with stride 2 and no padding, written branch-free so it vectorises.
// Same scan order and rule as max_window.
void max_plane_2x2(const float* plane, const PoolGeometry& g, int64_t oh, int64_t ow, float* y,
                   int32_t* arg) {
  for (int64_t oy = 0; oy < oh; ++oy) {
    const float* __restrict r0 = plane + 2 * oy * g.w;
    const float* __restrict r1 = r0 + g.w;
    float* __restrict yo = y + oy * ow;
    int32_t* __restrict ao = arg + oy * ow;
    const int32_t base = static_cast<int32_t>(2 * oy * g.w), w = static_cast<int32_t>(g.w);
    for (int64_t ox = 0; ox < ow; ++ox) {
      const int32_t i0 = base + 2 * static_cast<int32_t>(ox);
      const float a = r0[2 * ox], b = r0[2 * ox + 1], c = r1[2 * ox], d = r1[2 * ox + 1];
      float best = a;
      int32_t idx = i0;
      bool t = takes_over(b, best);
      best = t ? b : best;
      idx = t ? i0 + 1 : idx;
      t = takes_over(c, best);
      best = t ? c : best;
      idx = t ? i0 + w : idx;
      t = takes_over(d, best);
      best = t ? d : best;
      idx = t ? i0 + w + 1 : idx;
      yo[ox] = best;
      ao[ox] = idx;
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
    if (k2) {
      max_plane_2x2(plane, g, oh, ow, yp, ap);
      continue;
    }
    for (int64_t oy = 0; oy < oh; ++oy)
      for (int64_t ox = 0; ox < ow; ++ox)
        max_window(plane, g, oy, ox, yp[oy * ow + ox], ap[oy * ow + ox]);
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

// count_include_pad with ceil_mode=False: every window spans k*k padded positions, so both
// passes divide by k*k whatever part of the window lies in the image.
void avgpool2d_forward(const float* x, int64_t n, const PoolGeometry& g, float* y) {
  const int64_t in_pl = g.h * g.w;
  const float inv = 1.0f / static_cast<float>(g.k * g.k);
  for_each_window(n, g, [&](int64_t p, int64_t o, const Window& w) {
    const float* plane = x + p * in_pl;
    float acc = 0.0f;
    for (int64_t yy = w.ya; yy < w.yb; ++yy)
      for (int64_t xx = w.xa; xx < w.xb; ++xx) acc += plane[yy * g.w + xx];
    y[o] = acc * inv;
  });
}

void avgpool2d_backward(const float* dy, int64_t n, const PoolGeometry& g, float* dx) {
  const int64_t in_pl = g.h * g.w;
  const float inv = 1.0f / static_cast<float>(g.k * g.k);
  std::memset(dx, 0, static_cast<size_t>(n * g.c * in_pl) * sizeof(float));
  for_each_window(n, g, [&](int64_t p, int64_t o, const Window& w) {
    float* plane = dx + p * in_pl;
    const float d = dy[o] * inv;
    for (int64_t yy = w.ya; yy < w.yb; ++yy)
      for (int64_t xx = w.xa; xx < w.xb; ++xx) plane[yy * g.w + xx] += d;
  });
}

}  // namespace sculpt::kernels

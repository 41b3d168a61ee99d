// Reference pooling: windows scanned from scratch, padding made explicit, double accumulation.
#include <cmath>
#include <cstring>
#include <limits>

#include "kernels/pooling.h"

namespace sculpt::kernels {

namespace {

// Index (y*w + x) of the window's maximum over the padded plane; -1 if the window only covers
// padding (impossible when pad <= k/2). The first maximum wins ties; any NaN takes over (so the
// last NaN wins), as in PyTorch's CPU kernel.
int64_t window_argmax(const float* plane, const PoolGeometry& g, int64_t oy, int64_t ox) {
  int64_t arg = -1;
  double best = -std::numeric_limits<double>::infinity();
  for (int64_t ki = 0; ki < g.k; ++ki)
    for (int64_t kj = 0; kj < g.k; ++kj) {
      const int64_t y = oy * g.stride - g.pad + ki, x = ox * g.stride - g.pad + kj;
      if (y < 0 || y >= g.h || x < 0 || x >= g.w) continue;  // -inf padding never wins
      const float v = plane[y * g.w + x];
      if (arg < 0 || v > best || std::isnan(v)) best = v, arg = y * g.w + x;
    }
  return arg;
}

}  // namespace

void maxpool2d_forward_reference(const float* x, int64_t n, const PoolGeometry& g, float* y) {
  const int64_t oh = g.oh(), ow = g.ow();
  for (int64_t p = 0; p < n * g.c; ++p)
    for (int64_t oy = 0; oy < oh; ++oy)
      for (int64_t ox = 0; ox < ow; ++ox)
        y[(p * oh + oy) * ow + ox] = x[p * g.h * g.w + window_argmax(x + p * g.h * g.w, g, oy, ox)];
}

void maxpool2d_backward_reference(const float* x, const float* dy, int64_t n,
                                  const PoolGeometry& g, float* dx) {
  const int64_t oh = g.oh(), ow = g.ow();
  std::memset(dx, 0, static_cast<size_t>(n * g.c * g.h * g.w) * sizeof(float));
  for (int64_t p = 0; p < n * g.c; ++p)
    for (int64_t oy = 0; oy < oh; ++oy)
      for (int64_t ox = 0; ox < ow; ++ox)
        dx[p * g.h * g.w + window_argmax(x + p * g.h * g.w, g, oy, ox)] +=
            dy[(p * oh + oy) * ow + ox];
}

void avgpool2d_forward_reference(const float* x, int64_t n, const PoolGeometry& g, float* y) {
  const int64_t oh = g.oh(), ow = g.ow();
  for (int64_t p = 0; p < n * g.c; ++p)
    for (int64_t oy = 0; oy < oh; ++oy)
      for (int64_t ox = 0; ox < ow; ++ox) {
        double acc = 0.0;
        for (int64_t ki = 0; ki < g.k; ++ki)
          for (int64_t kj = 0; kj < g.k; ++kj) {
            const int64_t yy = oy * g.stride - g.pad + ki, xx = ox * g.stride - g.pad + kj;
            if (yy >= 0 && yy < g.h && xx >= 0 && xx < g.w) acc += x[(p * g.h + yy) * g.w + xx];
          }
        y[(p * oh + oy) * ow + ox] = static_cast<float>(acc / double(g.k * g.k));
      }
}

void avgpool2d_backward_reference(const float* dy, int64_t n, const PoolGeometry& g, float* dx) {
  const int64_t oh = g.oh(), ow = g.ow();
  std::memset(dx, 0, static_cast<size_t>(n * g.c * g.h * g.w) * sizeof(float));
  for (int64_t p = 0; p < n * g.c; ++p)
    for (int64_t oy = 0; oy < oh; ++oy)
      for (int64_t ox = 0; ox < ow; ++ox)
        for (int64_t ki = 0; ki < g.k; ++ki)
          for (int64_t kj = 0; kj < g.k; ++kj) {
            const int64_t yy = oy * g.stride - g.pad + ki, xx = ox * g.stride - g.pad + kj;
            if (yy >= 0 && yy < g.h && xx >= 0 && xx < g.w)
              dx[(p * g.h + yy) * g.w + xx] +=
                  static_cast<float>(dy[(p * oh + oy) * ow + ox] / double(g.k * g.k));
          }
}

}  // namespace sculpt::kernels

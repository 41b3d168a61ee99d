// Reference direct convolution (forward and gradients) in double: the definition, for tests.
#include <algorithm>
#include <vector>

#include "kernels/im2col.h"

namespace sculpt::kernels {

namespace {

// Calls f(oc, oy, ox, ci, iy, ix, ki, kj) for every in-bounds tap of every output of image i.
template <class F>
void for_each_tap(const ConvGeometry& g, int64_t out_c, F f) {
  const int64_t oh = g.oh(), ow = g.ow();
  for (int64_t oc = 0; oc < out_c; ++oc)
    for (int64_t oy = 0; oy < oh; ++oy)
      for (int64_t ox = 0; ox < ow; ++ox)
        for (int64_t ci = 0; ci < g.c; ++ci)
          for (int64_t ki = 0; ki < g.kh; ++ki)
            for (int64_t kj = 0; kj < g.kw; ++kj) {
              const int64_t iy = oy * g.stride - g.pad + ki, ix = ox * g.stride - g.pad + kj;
              if (iy < 0 || iy >= g.h || ix < 0 || ix >= g.w) continue;
              f(oc, oy, ox, ci, iy, ix, ki, kj);
            }
}

}  // namespace

void conv2d_forward_reference(const float* x, const float* w, const float* b, int64_t n,
                              const ConvGeometry& g, int64_t out_c, float* y) {
  const int64_t oh = g.oh(), ow = g.ow(), in_sz = g.c * g.h * g.w, out_sz = out_c * oh * ow;
  std::vector<double> acc(static_cast<size_t>(out_sz));
  for (int64_t i = 0; i < n; ++i) {
    const float* xi = x + i * in_sz;
    for (int64_t oc = 0; oc < out_c; ++oc)
      for (int64_t p = 0; p < oh * ow; ++p) acc[oc * oh * ow + p] = b ? b[oc] : 0.0;
    for_each_tap(g, out_c, [&](int64_t oc, int64_t oy, int64_t ox, int64_t ci, int64_t iy,
                               int64_t ix, int64_t ki, int64_t kj) {
      acc[(oc * oh + oy) * ow + ox] += double{xi[(ci * g.h + iy) * g.w + ix]} *
                                       w[((oc * g.c + ci) * g.kh + ki) * g.kw + kj];
    });
    for (int64_t p = 0; p < out_sz; ++p) y[i * out_sz + p] = static_cast<float>(acc[p]);
  }
}

void conv2d_backward_reference(const float* x, const float* w, const float* dy, int64_t n,
                               const ConvGeometry& g, int64_t out_c, float* dx, float* dw,
                               float* db) {
  const int64_t oh = g.oh(), ow = g.ow(), in_sz = g.c * g.h * g.w, out_sz = out_c * oh * ow;
  const int64_t w_sz = out_c * g.c * g.kh * g.kw;
  std::vector<double> gdx(static_cast<size_t>(in_sz)), gdw(static_cast<size_t>(w_sz), 0.0),
      gdb(static_cast<size_t>(out_c), 0.0);
  for (int64_t i = 0; i < n; ++i) {
    const float* xi = x + i * in_sz;
    const float* dyi = dy + i * out_sz;
    std::fill(gdx.begin(), gdx.end(), 0.0);
    for_each_tap(g, out_c, [&](int64_t oc, int64_t oy, int64_t ox, int64_t ci, int64_t iy,
                               int64_t ix, int64_t ki, int64_t kj) {
      const double d = dyi[(oc * oh + oy) * ow + ox];
      const int64_t wi = ((oc * g.c + ci) * g.kh + ki) * g.kw + kj;
      const int64_t xo = (ci * g.h + iy) * g.w + ix;
      gdx[xo] += d * w[wi];
      gdw[wi] += d * xi[xo];
    });
    for (int64_t oc = 0; oc < out_c; ++oc)
      for (int64_t p = 0; p < oh * ow; ++p) gdb[oc] += dyi[oc * oh * ow + p];
    if (dx)
      for (int64_t p = 0; p < in_sz; ++p) dx[i * in_sz + p] = static_cast<float>(gdx[p]);
  }
  if (dw)
    for (int64_t p = 0; p < w_sz; ++p) dw[p] = static_cast<float>(dw[p] + gdw[p]);
  if (db)
    for (int64_t p = 0; p < out_c; ++p) db[p] = static_cast<float>(db[p] + gdb[p]);
}

}  // namespace sculpt::kernels

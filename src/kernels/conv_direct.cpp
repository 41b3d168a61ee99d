// DirectConv: zero-padded copies of the images (and of dY for backward-data), the split of the
// batch over threads, and the thread-ordered sum of the weight-gradient partials. The
// arithmetic is in conv_direct_avx512.cpp.
#include "kernels/conv_direct.h"

#include <omp.h>

#include <algorithm>
#include <cstring>

#include "core/cpu.h"
#include "core/error.h"
#include "core/limits.h"
#include "kernels/conv_direct_kernels.h"

namespace sculpt::kernels {

namespace {

// Floats of padded images and their dY a backward-weights chunk keeps (about 256 KiB: L2).
constexpr int64_t kChunkFloats = int64_t{1} << 16;
constexpr int64_t kMaxChunk = 16;

detail::DirectShape shape_of(const ConvGeometry& g, int64_t out_c, bool relu = false) {
  return {.c = g.c,
          .hp = g.h + 2 * g.pad,
          .wp = g.w + 2 * g.pad,
          .kh = g.kh,
          .kw = g.kw,
          .oc = out_c,
          .oh = g.oh(),
          .ow = g.ow(),
          .relu = relu};
}

int64_t padded_floats(const ConvGeometry& g) {
  return mul_sat(g.c, mul_sat(g.h + 2 * g.pad, g.w + 2 * g.pad));
}

// Thread t's share [first, last) of n images split statically over nt threads.
void share(int64_t n, int nt, int t, int64_t& first, int64_t& last) {
  const int64_t per = n / nt, extra = n % nt;
  first = t * per + std::min<int64_t>(t, extra);
  last = first + per + (t < extra ? 1 : 0);
}

// body(t, first, last) for every thread's share of n images.
template <class Body>
void split(int64_t n, int nt, Body&& body) {
  if (nt == 1) return body(0, int64_t{0}, n);
#pragma omp parallel num_threads(nt)
  {
    const int t = omp_get_thread_num();
    int64_t first = 0, last = 0;
    share(n, nt, t, first, last);
    body(t, first, last);
  }
}

}  // namespace

bool DirectConv::available() { return use_avx512(); }

bool DirectConv::supported(const ConvGeometry& g) {
  return available() && g.stride == 1 && g.kh == g.kw && g.kw <= 7 && g.pad < g.kh && g.ow() >= 1 &&
         g.ow() <= 64 && g.w <= 64;
}

bool DirectConv::preferred(const ConvGeometry& g) {
  const char* forced = conv_path_override();
  if (std::strcmp(forced, "auto") != 0) return std::strcmp(forced, "direct") == 0 && supported(g);
  return supported(g) && g.c < 8;
}

int64_t DirectConv::scratch_floats(const ConvGeometry& g, int64_t out_c, int threads) {
  const int64_t q = g.kh - 1 - g.pad, t = std::max(1, threads);
  const int64_t dy_slot = mul_sat(out_c, mul_sat(g.oh() + 2 * q, g.ow() + 2 * q));
  const int64_t wsz = mul_sat(out_c, g.col_rows());
  // A chunk's padded images and masked dY: kChunkFloats, or one image's when that is more.
  const int64_t chunk =
      std::max(kChunkFloats, add_sat(padded_floats(g), mul_sat(out_c, g.col_cols())));
  const int64_t per_thread = add_sat(add_sat(chunk, dy_slot), add_sat(wsz, out_c));
  return add_sat(mul_sat(t, per_thread), wsz);
}

DirectConv::DirectConv(const ConvGeometry& g, int64_t out_c, int threads, bool relu)
    : g_(g), oc_(out_c), threads_(std::max(1, threads)), relu_(relu) {
  const int64_t q = g.kh - 1 - g.pad;
  gt_ = {.c = out_c, .h = g.oh(), .w = g.ow(), .kh = g.kh, .kw = g.kw, .stride = 1, .pad = q};
  x_slot_ = padded_floats(g);
  dy_slot_ = padded_floats(gt_);
  chunk_ = std::clamp<int64_t>(kChunkFloats / (x_slot_ + out_c * g.col_cols()), 1, kMaxChunk);
  xpad_.assign(static_cast<size_t>(threads_ * chunk_ * x_slot_), 0.0f);
  if (relu) dymask_.assign(static_cast<size_t>(threads_ * chunk_ * out_c * g.col_cols()), 0.0f);
  dypad_.assign(static_cast<size_t>(threads_ * dy_slot_), 0.0f);
  wt_.assign(static_cast<size_t>(out_c * g.col_rows()), 0.0f);
  part_.assign(static_cast<size_t>(threads_ * (out_c * g.col_rows() + out_c)), 0.0f);
}

int DirectConv::threads_for(int64_t n) const {
  if (omp_in_parallel()) return 1;
  return static_cast<int>(
      std::max<int64_t>(1, std::min<int64_t>({threads_, omp_get_max_threads(), n})));
}

void DirectConv::pad_input(const float* x, int64_t i, int t, int64_t j) {
  const int64_t hp = g_.h + 2 * g_.pad, wp = g_.w + 2 * g_.pad;
  const float* src = x + i * g_.c * g_.h * g_.w;
  float* slot = xpad_.data() + (t * chunk_ + j) * x_slot_;
  for (int64_t ci = 0; ci < g_.c; ++ci)
    for (int64_t y = 0; y < g_.h; ++y)
      std::memcpy(slot + (ci * hp + y + g_.pad) * wp + g_.pad, src + (ci * g_.h + y) * g_.w,
                  static_cast<size_t>(g_.w) * sizeof(float));
}

void DirectConv::forward(const float* x, const float* w, const float* b, float* y, int64_t n) {
  const detail::DirectShape s = shape_of(g_, oc_, relu_);
  const int64_t out_sz = oc_ * g_.col_cols();
  split(n, threads_for(n), [&](int t, int64_t first, int64_t last) {
    const float* slot = xpad_.data() + t * chunk_ * x_slot_;
    for (int64_t i = first; i < last; ++i) {
      pad_input(x, i, t, 0);
      detail::direct_forward_avx512(s, slot, w, b, y + i * out_sz);
    }
  });
}

void DirectConv::backward(const float* x, const float* w, const float* dy, const float* mask,
                          float* dx, float* dw, float* db, int64_t n) {
  const detail::DirectShape s = shape_of(g_, oc_), st = shape_of(gt_, g_.c);
  const int64_t kk = g_.kh * g_.kw, wsz = oc_ * g_.c * kk, ohw = g_.col_cols();
  const int64_t out_sz = oc_ * ohw, in_sz = g_.c * g_.h * g_.w;
  const int64_t q = gt_.pad, hq = gt_.h + 2 * q, wq = gt_.w + 2 * q;
  SCULPT_CHECK(!mask || relu_, Error, "DirectConv: a ReLU mask without a fused ReLU");
  if (dx) {  // wt[ci][o][ky][kx] = w[o][ci][kh-1-ky][kw-1-kx]
    for (int64_t o = 0; o < oc_; ++o)
      for (int64_t ci = 0; ci < g_.c; ++ci)
        for (int64_t k = 0; k < kk; ++k)
          wt_[(ci * oc_ + o) * kk + k] = w[(o * g_.c + ci) * kk + kk - 1 - k];
  }
  const int nt = threads_for(n);
  split(n, nt, [&](int t, int64_t first, int64_t last) {
    float* part = part_.data() + t * (wsz + oc_);
    std::fill_n(part, wsz + oc_, 0.0f);
    float* slot = dypad_.data() + t * dy_slot_;
    for (int64_t i = first; i < last; i += chunk_) {
      const int64_t count = std::min(chunk_, last - i);
      // The chunk's dY, where the fused ReLU passed: masked into this thread's buffer.
      const float* d = dy + i * out_sz;
      if (mask) {
        float* m = dymask_.data() + t * chunk_ * out_sz;
        const float* y = mask + i * out_sz;
        for (int64_t k = 0; k < count * out_sz; ++k) m[k] = y[k] > 0.0f ? d[k] : 0.0f;
        d = m;
      }
      for (int64_t j = 0; j < count; ++j) pad_input(x, i + j, t, j);
      detail::direct_weights_avx512(s, xpad_.data() + t * chunk_ * x_slot_, x_slot_, d, out_sz,
                                    count, part);
      detail::direct_bias_avx512(d, oc_, ohw, count, part + wsz);
      if (!dx) continue;
      for (int64_t j = 0; j < count; ++j) {
        for (int64_t o = 0; o < oc_; ++o)
          for (int64_t r = 0; r < gt_.h; ++r)
            std::memcpy(slot + (o * hq + r + q) * wq + q, d + j * out_sz + (o * gt_.h + r) * gt_.w,
                        static_cast<size_t>(gt_.w) * sizeof(float));
        detail::direct_forward_avx512(st, slot, wt_.data(), nullptr, dx + (i + j) * in_sz);
      }
    }
  });
  for (int t = 0; t < nt; ++t) {
    const float* part = part_.data() + t * (wsz + oc_);
    for (int64_t j = 0; j < wsz; ++j) dw[j] += part[j];
    for (int64_t o = 0; o < oc_; ++o) db[o] += part[wsz + o];
  }
}

}  // namespace sculpt::kernels

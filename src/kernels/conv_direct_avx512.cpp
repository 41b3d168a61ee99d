// DirectConv's AVX-512F kernels, compiled through target attributes and called only after the
// run-time CPU check of DirectConv::supported(). Templates fix the register blocks (V vectors of
// a row times OB output channels for the forward kernel, OB output channels times KW kernel
// columns for the weight gradient); tables of instantiations pick one at run time.
// Every load and store past a row's last column is masked: nothing outside the padded image,
// the output row or the dY row is touched.
#include "kernels/conv_direct_kernels.h"

#if defined(__x86_64__)
#include <algorithm>
#include <array>
#include <cstring>
#include <utility>

#include "kernels/intrinsics.h"

#define SCULPT_AVX512 __attribute__((target("avx512f")))

namespace sculpt::kernels::detail {

namespace {

constexpr int kMaxV = 4;   // vectors of 16 columns in an output row
constexpr int kMaxKw = 7;  // kernel columns
// Rows of one vector go two at a time (two input loads and OB broadcasts feed 2*OB FMAs, where
// one row alone would load as often as it multiplies); wider rows one at a time.
constexpr int fwd_rows(int v) { return v == 1 ? 2 : 1; }
// Output channels per forward block: OB*R*V accumulators, R*V inputs and a broadcast in 32 zmm
// (one-row remainders of two-row blocks use the same OB).
constexpr int fwd_block(int v) { return v == 1 ? 12 : v == 2 ? 12 : v == 3 ? 8 : 6; }
// Output channels per weight-gradient block: OB*KW accumulators, OB dY vectors and an input.
constexpr int wgrad_block(int kw) { return 26 / (kw + 1); }

SCULPT_AVX512 inline __mmask16 tail_mask(int64_t lanes) {
  return static_cast<__mmask16>((1u << lanes) - 1u);
}

// Output channels [0, OB) of s (w, b and y already offset to the block's first channel), output
// rows [oy0, oy1) R at a time (oy1 - oy0 a multiple of R): R rows share each broadcast weight.
template <int V, int OB, int R>
SCULPT_AVX512 void forward_block(const DirectShape& s, const float* xp, const float* w,
                                 const float* b, float* y, int64_t oy0, int64_t oy1) {
  const int64_t kk = s.kh * s.kw, ws = s.c * kk, plane = s.oh * s.ow;
  const __mmask16 tail = tail_mask(s.ow - 16 * (V - 1));
  for (int64_t oy = oy0; oy < oy1; oy += R) {
    __m512 acc[OB][R * V];
#pragma GCC unroll 16
    for (int ob = 0; ob < OB; ++ob) {
      const __m512 bv = b ? _mm512_set1_ps(b[ob]) : _mm512_setzero_ps();
#pragma GCC unroll 4
      for (int v = 0; v < R * V; ++v) acc[ob][v] = bv;
    }
    for (int64_t ci = 0; ci < s.c; ++ci) {
      for (int64_t ky = 0; ky < s.kh; ++ky) {
        const float* row = xp + (ci * s.hp + oy + ky) * s.wp;
        const float* wr = w + ci * kk + ky * s.kw;
        for (int64_t kx = 0; kx < s.kw; ++kx) {
          __m512 in[R * V];
#pragma GCC unroll 4
          for (int r = 0; r < R; ++r)
#pragma GCC unroll 4
            for (int v = 0; v < V; ++v) {
              const float* at = row + r * s.wp + kx + 16 * v;
              in[r * V + v] = v + 1 < V ? _mm512_loadu_ps(at) : _mm512_maskz_loadu_ps(tail, at);
            }
#pragma GCC unroll 16
          for (int ob = 0; ob < OB; ++ob) {
            const __m512 wv = _mm512_set1_ps(wr[ob * ws + kx]);
#pragma GCC unroll 4
            for (int v = 0; v < R * V; ++v) acc[ob][v] = _mm512_fmadd_ps(wv, in[v], acc[ob][v]);
          }
        }
      }
    }
    if (s.relu) {
#pragma GCC unroll 16
      for (int ob = 0; ob < OB; ++ob)
#pragma GCC unroll 4
        for (int v = 0; v < R * V; ++v) acc[ob][v] = _mm512_max_ps(acc[ob][v], _mm512_setzero_ps());
    }
#pragma GCC unroll 16
    for (int ob = 0; ob < OB; ++ob)
#pragma GCC unroll 4
      for (int r = 0; r < R; ++r) {
        float* out = y + ob * plane + (oy + r) * s.ow;
#pragma GCC unroll 4
        for (int v = 0; v < V; ++v) {
          if (v + 1 < V)
            _mm512_storeu_ps(out + 16 * v, acc[ob][r * V + v]);
          else
            _mm512_mask_storeu_ps(out + 16 * v, tail, acc[ob][r * V + v]);
        }
      }
  }
}

// dw [OB, c, kh, KW] (offset to the block) += the block's weight gradient over `count` images.
template <int KW, int OB>
SCULPT_AVX512 void weights_block(const DirectShape& s, const float* xp, int64_t x_stride,
                                 const float* dy, int64_t dy_stride, int64_t count, float* dw) {
  const int64_t kk = s.kh * KW, ws = s.c * kk, plane = s.oh * s.ow;
  const int64_t nv = (s.ow + 15) / 16;
  const __mmask16 tail = tail_mask(s.ow - 16 * (nv - 1));
  for (int64_t ci = 0; ci < s.c; ++ci) {
    for (int64_t ky = 0; ky < s.kh; ++ky) {
      __m512 acc[OB][KW];
#pragma GCC unroll 16
      for (int ob = 0; ob < OB; ++ob)
#pragma GCC unroll 8
        for (int kx = 0; kx < KW; ++kx) acc[ob][kx] = _mm512_setzero_ps();
      for (int64_t i = 0; i < count; ++i) {
        const float* xi = xp + i * x_stride + (ci * s.hp + ky) * s.wp;
        const float* di = dy + i * dy_stride;
        for (int64_t oy = 0; oy < s.oh; ++oy) {
          for (int64_t v = 0; v < nv; ++v) {
            const __mmask16 m = v + 1 < nv ? static_cast<__mmask16>(0xFFFF) : tail;
            __m512 d[OB];
#pragma GCC unroll 16
            for (int ob = 0; ob < OB; ++ob)
              d[ob] = _mm512_maskz_loadu_ps(m, di + ob * plane + oy * s.ow + 16 * v);
            const float* row = xi + oy * s.wp + 16 * v;
#pragma GCC unroll 8
            for (int kx = 0; kx < KW; ++kx) {
              const __m512 xv = _mm512_maskz_loadu_ps(m, row + kx);
#pragma GCC unroll 16
              for (int ob = 0; ob < OB; ++ob) acc[ob][kx] = _mm512_fmadd_ps(d[ob], xv, acc[ob][kx]);
            }
          }
        }
      }
#pragma GCC unroll 16
      for (int ob = 0; ob < OB; ++ob)
#pragma GCC unroll 8
        for (int kx = 0; kx < KW; ++kx)
          dw[ob * ws + ci * kk + ky * KW + kx] += _mm512_reduce_add_ps(acc[ob][kx]);
    }
  }
}

using ForwardFn = void (*)(const DirectShape&, const float*, const float*, const float*, float*,
                           int64_t, int64_t);
using WeightsFn = void (*)(const DirectShape&, const float*, int64_t, const float*, int64_t,
                           int64_t, float*);

// forward_block<V, 1..fwd_block(V), R>, indexed by OB - 1.
template <int V, int R, int... I>
constexpr std::array<ForwardFn, sizeof...(I)> forward_table(std::integer_sequence<int, I...>) {
  return {&forward_block<V, I + 1, R>...};
}
template <int KW, int... I>
constexpr std::array<WeightsFn, sizeof...(I)> weights_table(std::integer_sequence<int, I...>) {
  return {&weights_block<KW, I + 1>...};
}

template <int V, int R>
ForwardFn forward_fn_of(int64_t ob) {
  static constexpr auto t = forward_table<V, R>(std::make_integer_sequence<int, fwd_block(V)>());
  return t[ob - 1];
}

// The kernel for rows of v vectors, ob channels, r rows at a time (fwd_rows(v) or 1).
ForwardFn forward_fn(int64_t v, int64_t ob, int64_t r) {
  switch (v) {
    case 1:
      return r == 2 ? forward_fn_of<1, 2>(ob) : forward_fn_of<1, 1>(ob);
    case 2:
      return forward_fn_of<2, 1>(ob);
    case 3:
      return forward_fn_of<3, 1>(ob);
    default:
      return forward_fn_of<kMaxV, 1>(ob);
  }
}

// Blocks of at most `most` channels, as even as possible: 16 at most 12 is 8 + 8, not 12 + 4.
int64_t even_block(int64_t channels, int64_t most) {
  const int64_t blocks = (channels + most - 1) / most;
  return (channels + blocks - 1) / blocks;
}

template <int KW>
WeightsFn weights_fn_of(int64_t ob) {
  static constexpr auto t = weights_table<KW>(std::make_integer_sequence<int, wgrad_block(KW)>());
  return t[ob - 1];
}

WeightsFn weights_fn(int64_t kw, int64_t ob) {
  switch (kw) {
    case 1:
      return weights_fn_of<1>(ob);
    case 2:
      return weights_fn_of<2>(ob);
    case 3:
      return weights_fn_of<3>(ob);
    case 4:
      return weights_fn_of<4>(ob);
    case 5:
      return weights_fn_of<5>(ob);
    case 6:
      return weights_fn_of<6>(ob);
    default:
      return weights_fn_of<kMaxKw>(ob);
  }
}

}  // namespace

SCULPT_AVX512 void direct_bias_avx512(const float* dy, int64_t channels, int64_t plane,
                                      int64_t count, float* db) {
  const __mmask16 tail = tail_mask(plane % 16 == 0 ? 16 : plane % 16);
  const int64_t whole = (plane - 1) / 16;  // vectors before the (possibly partial) last one
  for (int64_t o = 0; o < channels; ++o) {
    __m512 acc = _mm512_setzero_ps();
    for (int64_t i = 0; i < count; ++i) {
      const float* d = dy + (i * channels + o) * plane;
      for (int64_t v = 0; v < whole; ++v) acc = _mm512_add_ps(acc, _mm512_loadu_ps(d + 16 * v));
      acc = _mm512_add_ps(acc, _mm512_maskz_loadu_ps(tail, d + 16 * whole));
    }
    db[o] += _mm512_reduce_add_ps(acc);
  }
}

namespace {

// Transposes the 16x16 block r (row i: channel i, 16 positions) in place: r[j] becomes position
// j's 16 channels. Pairs of rows interleave by floats, then by float pairs (each 128-bit lane of
// u[4g + c] then holds position 4L + c of rows 4g..4g+3), then lanes gather across rows.
SCULPT_AVX512 inline void transpose16(__m512 r[16]) {
  __m512 t[16], u[16];
  for (int i = 0; i < 16; i += 2) {
    t[i] = _mm512_unpacklo_ps(r[i], r[i + 1]);
    t[i + 1] = _mm512_unpackhi_ps(r[i], r[i + 1]);
  }
  for (int g = 0; g < 16; g += 4) {
    const __m512d a = _mm512_castps_pd(t[g]), b = _mm512_castps_pd(t[g + 1]),
                  c = _mm512_castps_pd(t[g + 2]), d = _mm512_castps_pd(t[g + 3]);
    u[g] = _mm512_castpd_ps(_mm512_unpacklo_pd(a, c));
    u[g + 1] = _mm512_castpd_ps(_mm512_unpackhi_pd(a, c));
    u[g + 2] = _mm512_castpd_ps(_mm512_unpacklo_pd(b, d));
    u[g + 3] = _mm512_castpd_ps(_mm512_unpackhi_pd(b, d));
  }
  for (int c = 0; c < 4; ++c) {
    const __m512 x = _mm512_shuffle_f32x4(u[c], u[4 + c], 0x44);
    const __m512 y = _mm512_shuffle_f32x4(u[c], u[4 + c], 0xEE);
    const __m512 z = _mm512_shuffle_f32x4(u[8 + c], u[12 + c], 0x44);
    const __m512 w = _mm512_shuffle_f32x4(u[8 + c], u[12 + c], 0xEE);
    r[c] = _mm512_shuffle_f32x4(x, z, 0x88);
    r[4 + c] = _mm512_shuffle_f32x4(x, z, 0xDD);
    r[8 + c] = _mm512_shuffle_f32x4(y, w, 0x88);
    r[12 + c] = _mm512_shuffle_f32x4(y, w, 0xDD);
  }
}

}  // namespace

SCULPT_AVX512 void relu_mask_blocked16_avx512(const float* dy, const float* y, int64_t blocks,
                                              int64_t plane, float* out) {
  const __m512 zero = _mm512_setzero_ps();
  for (int64_t b = 0; b < blocks; ++b) {
    const float* d = dy + b * 16 * plane;
    const float* m = y + b * 16 * plane;
    float* o = out + b * 16 * plane;
    // 16 positions at a time (the last group masked): mask 16 rows, transpose, store.
    for (int64_t p = 0; p < plane; p += 16) {
      const int64_t k = std::min<int64_t>(16, plane - p);
      const __mmask16 in = tail_mask(k);
      __m512 r[16];
      for (int c = 0; c < 16; ++c) {
        const __m512 yv = _mm512_maskz_loadu_ps(in, m + c * plane + p);
        const __mmask16 pass = _mm512_cmp_ps_mask(yv, zero, _CMP_GT_OQ);
        r[c] = _mm512_maskz_loadu_ps(pass, d + c * plane + p);
      }
      transpose16(r);
      for (int64_t j = 0; j < k; ++j) _mm512_storeu_ps(o + 16 * (p + j), r[j]);
    }
  }
}

SCULPT_AVX512 void blocked16_to_nchw_avx512(const float* in, int64_t blocks, int64_t plane,
                                            float* out) {
  for (int64_t b = 0; b < blocks; ++b) {
    const float* from = in + b * 16 * plane;
    float* to = out + b * 16 * plane;
    for (int64_t p = 0; p < plane; p += 16) {
      const int64_t k = std::min<int64_t>(16, plane - p);
      __m512 r[16];
      for (int64_t j = 0; j < 16; ++j)
        r[j] = j < k ? _mm512_loadu_ps(from + 16 * (p + j)) : _mm512_setzero_ps();
      transpose16(r);
      const __mmask16 m = tail_mask(k);
      for (int c = 0; c < 16; ++c) _mm512_mask_storeu_ps(to + c * plane + p, m, r[c]);
    }
  }
}

SCULPT_AVX512 void maxpool2x2_blocked16_avx512(const float* x, int64_t blocks, int64_t h, int64_t w,
                                               float* y, uint16_t* arg) {
  const int64_t oh = h / 2, ow = w / 2;
  for (int64_t b = 0; b < blocks; ++b) {
    const float* xb = x + b * h * w * 16;
    for (int64_t py = 0; py < oh; ++py)
      for (int64_t px = 0; px < ow; ++px) {
        const float* at = xb + ((2 * py) * w + 2 * px) * 16;
        const float* in[4] = {at, at + 16, at + w * 16, at + (w + 1) * 16};
        // Scan order and rule of kernels::maxpool2d_forward: later values take over when
        // greater, or NaN. The window position k of each lane's maximum: bit 0 in lo, bit 1 in hi.
        __m512 best = _mm512_loadu_ps(in[0]);
        __mmask16 lo = 0, hi = 0;
        for (int k = 1; k < 4; ++k) {
          const __m512 v = _mm512_loadu_ps(in[k]);
          const __mmask16 take =
              _mm512_cmp_ps_mask(v, best, _CMP_GT_OQ) | _mm512_cmp_ps_mask(v, v, _CMP_UNORD_Q);
          best = _mm512_mask_mov_ps(best, take, v);
          lo = static_cast<__mmask16>((lo & ~take) | ((k & 1) ? take : 0));
          hi = static_cast<__mmask16>((hi & ~take) | ((k & 2) ? take : 0));
        }
        const int64_t o = b * oh * ow + py * ow + px;
        _mm512_storeu_ps(y + o * 16, best);
        arg[2 * o] = lo;
        arg[2 * o + 1] = hi;
      }
  }
}

SCULPT_AVX512 void maxunpool2x2_blocked16_avx512(const float* dy, const uint16_t* arg,
                                                 int64_t blocks, int64_t h, int64_t w, float* dx) {
  const int64_t oh = h / 2, ow = w / 2;
  for (int64_t b = 0; b < blocks; ++b) {
    float* db = dx + b * h * w * 16;
    // A row or column no window covers (odd h or w) gets no gradient.
    if (h % 2) std::memset(db + (h - 1) * w * 16, 0, static_cast<size_t>(w) * 16 * sizeof(float));
    for (int64_t py = 0; py < oh; ++py) {
      for (int64_t px = 0; px < ow; ++px) {
        const int64_t o = b * oh * ow + py * ow + px;
        const __m512 g = _mm512_loadu_ps(dy + o * 16);
        const uint16_t lo = arg[2 * o], hi = arg[2 * o + 1];
        const __mmask16 here[4] = {
            static_cast<__mmask16>(~lo & ~hi), static_cast<__mmask16>(lo & ~hi),
            static_cast<__mmask16>(~lo & hi), static_cast<__mmask16>(lo & hi)};
        float* at = db + ((2 * py) * w + 2 * px) * 16;
        float* out[4] = {at, at + 16, at + w * 16, at + (w + 1) * 16};
        for (int k = 0; k < 4; ++k) _mm512_storeu_ps(out[k], _mm512_maskz_mov_ps(here[k], g));
      }
      if (w % 2) {
        for (int64_t r = 0; r < 2; ++r)
          _mm512_storeu_ps(db + ((2 * py + r) * w + w - 1) * 16, _mm512_setzero_ps());
      }
    }
  }
}

void direct_forward_avx512(const DirectShape& s, const float* xp, const float* w, const float* b,
                           float* y) {
  const int64_t v = (s.ow + 15) / 16, r = fwd_rows(static_cast<int>(v));
  const int64_t block = even_block(s.oc, fwd_block(static_cast<int>(v)));
  const int64_t ws = s.c * s.kh * s.kw, plane = s.oh * s.ow, paired = s.oh - s.oh % r;
  static_assert(kMaxV == 4);
  for (int64_t o = 0; o < s.oc; o += block) {
    const int64_t ob = std::min(block, s.oc - o);
    const float* wo = w + o * ws;
    const float* bo = b ? b + o : nullptr;
    float* yo = y + o * plane;
    forward_fn(v, ob, r)(s, xp, wo, bo, yo, 0, paired);
    if (paired < s.oh) forward_fn(v, ob, 1)(s, xp, wo, bo, yo, paired, s.oh);
  }
}

void direct_weights_avx512(const DirectShape& s, const float* xp, int64_t x_stride, const float* dy,
                           int64_t dy_stride, int64_t count, float* dw) {
  const int64_t block = even_block(s.oc, wgrad_block(static_cast<int>(s.kw)));
  const int64_t ws = s.c * s.kh * s.kw, plane = s.oh * s.ow;
  for (int64_t o = 0; o < s.oc; o += block) {
    const int64_t ob = std::min(block, s.oc - o);
    weights_fn(s.kw, ob)(s, xp, x_stride, dy + o * plane, dy_stride, count, dw + o * ws);
  }
}

}  // namespace sculpt::kernels::detail

#else  // not x86-64: DirectConv::supported() is false and these are never called

namespace sculpt::kernels::detail {
void direct_forward_avx512(const DirectShape&, const float*, const float*, const float*, float*) {}
void direct_weights_avx512(const DirectShape&, const float*, int64_t, const float*, int64_t,
                           int64_t, float*) {}
void direct_bias_avx512(const float*, int64_t, int64_t, int64_t, float*) {}
void relu_mask_blocked16_avx512(const float*, const float*, int64_t, int64_t, float*) {}
void blocked16_to_nchw_avx512(const float*, int64_t, int64_t, float*) {}
void maxpool2x2_blocked16_avx512(const float*, int64_t, int64_t, int64_t, float*, uint16_t*) {}
void maxunpool2x2_blocked16_avx512(const float*, const uint16_t*, int64_t, int64_t, int64_t,
                                   float*) {}
}  // namespace sculpt::kernels::detail

#endif  // __x86_64__

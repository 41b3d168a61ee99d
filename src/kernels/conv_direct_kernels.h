// The AVX-512 kernels of DirectConv (conv_direct_avx512.cpp), on one zero-padded image at a time:
// callers check DirectConv::supported() (the CPU has AVX-512F) before calling them.
#pragma once

#include <cstdint>

namespace sculpt::kernels::detail {

// A stride-1 convolution of an image already padded: [c, hp, wp] in, [oc, oh, ow] out with
// oh = hp - kh + 1, ow = wp - kw + 1 <= 64, kw <= 7.
struct DirectShape {
  int64_t c, hp, wp, kh, kw, oc, oh, ow;
  bool relu = false;  // the forward stores max(y, 0)
};

// y [oc, oh, ow] = b (null: 0) + the convolution of xp [c, hp, wp] with w [oc, c, kh, kw]
// (then max(y, 0) with s.relu).
void direct_forward_avx512(const DirectShape& s, const float* xp, const float* w, const float* b,
                           float* y);
// dw [oc, c, kh, kw] += sum over `count` images of dY (x) xp: image i's padded input at
// xp + i * x_stride, its dY [oc, oh, ow] at dy + i * dy_stride.
void direct_weights_avx512(const DirectShape& s, const float* xp, int64_t x_stride, const float* dy,
                           int64_t dy_stride, int64_t count, float* dw);

// db [channels] += the sums of dY [count, channels, plane] over images and positions.
void direct_bias_avx512(const float* dy, int64_t channels, int64_t plane, int64_t count, float* db);

// out [blocks, plane, 16] = dy where y > 0, else 0, from dy and y [blocks * 16, plane] (NCHW
// with whole 16-channel blocks: oneDNN's nChw16c). 16x16 blocks transposed in registers.
void relu_mask_blocked16_avx512(const float* dy, const float* y, int64_t blocks, int64_t plane,
                                float* out);

// out [blocks * 16, plane] (NCHW) from in [blocks, plane, 16] (nChw16c).
void blocked16_to_nchw_avx512(const float* in, int64_t blocks, int64_t plane, float* out);
// 2x2 max-pooling with stride 2 of x [blocks, h, w, 16] into y [blocks, h/2, w/2, 16], with
// arg [blocks, h/2, w/2, 2] the window position 0..3 (row-major) of each lane's maximum as two
// 16-lane bit masks (bit 0, bit 1): the scan order and NaN rule of kernels::maxpool2d_forward.
void maxpool2x2_blocked16_avx512(const float* x, int64_t blocks, int64_t h, int64_t w, float* y,
                                 uint16_t* arg);
// Its backward: dx [blocks, h, w, 16] is WRITTEN, dy at each window's maximum, 0 elsewhere.
void maxunpool2x2_blocked16_avx512(const float* dy, const uint16_t* arg, int64_t blocks, int64_t h,
                                   int64_t w, float* dx);

}  // namespace sculpt::kernels::detail

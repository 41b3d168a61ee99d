// oneDNN's nChw16c layout (whole blocks of 16 channels, the channels of a position contiguous)
// next to NCHW: what a fused ReLU and max-pool do between the two, split over the threads by
// blocks (kernels/conv_direct_kernels.h holds the AVX-512 bodies). DnnlConv uses them.
#pragma once

#include <cstdint>

namespace sculpt::kernels {

// out [blocks, plane, 16] = dy where y > 0, else 0, from dy and y [blocks * 16, plane] (NCHW):
// 16x16 blocks transposed in registers with AVX-512, a plain loop on other CPUs.
void relu_mask_to_blocked16(const float* dy, const float* y, int64_t blocks, int64_t plane,
                            float* out);
// The rest need AVX-512 (DnnlConv::pools() checks it).
// out [blocks * 16, plane] (NCHW) from in [blocks, plane, 16].
void blocked16_to_nchw(const float* in, int64_t blocks, int64_t plane, float* out);
// 2x2 max-pool with stride 2 of x [blocks, h, w, 16] into y [blocks, h/2, w/2, 16] and the
// maxima's window positions arg [blocks, h/2, w/2, 2] (two bit masks per position).
void maxpool2x2_blocked16(const float* x, int64_t blocks, int64_t h, int64_t w, float* y,
                          uint16_t* arg);
// Its backward: dx [blocks, h, w, 16] is WRITTEN.
void maxunpool2x2_blocked16(const float* dy, const uint16_t* arg, int64_t blocks, int64_t h,
                            int64_t w, float* dx);

}  // namespace sculpt::kernels

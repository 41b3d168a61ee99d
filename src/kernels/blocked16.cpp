// Thread splits of the nChw16c helpers: each thread takes whole 16-channel blocks.
#include "kernels/blocked16.h"

#include "core/cpu.h"
#include "core/parallel.h"
#include "kernels/conv_direct_kernels.h"

namespace sculpt::kernels {

void relu_mask_to_blocked16(const float* dy, const float* y, int64_t blocks, int64_t plane,
                            float* out) {
  const bool avx512 = use_avx512();
  for_range(
      blocks,
      [=](int64_t b0, int64_t b1) {
        const int64_t at = b0 * 16 * plane;
        if (avx512)
          return detail::relu_mask_blocked16_avx512(dy + at, y + at, b1 - b0, plane, out + at);
        for (int64_t b = b0; b < b1; ++b)
          for (int64_t p = 0; p < plane; ++p)
            for (int64_t c = 0; c < 16; ++c) {
              const int64_t from = (b * 16 + c) * plane + p;
              out[(b * plane + p) * 16 + c] = y[from] > 0.0f ? dy[from] : 0.0f;
            }
      },
      blocks * 16 * plane);
}

void blocked16_to_nchw(const float* in, int64_t blocks, int64_t plane, float* out) {
  for_range(
      blocks,
      [=](int64_t b0, int64_t b1) {
        const int64_t at = b0 * 16 * plane;
        detail::blocked16_to_nchw_avx512(in + at, b1 - b0, plane, out + at);
      },
      blocks * 16 * plane);
}

void maxpool2x2_blocked16(const float* x, int64_t blocks, int64_t h, int64_t w, float* y,
                          uint16_t* arg) {
  const int64_t pooled = (h / 2) * (w / 2);
  for_range(
      blocks,
      [=](int64_t b0, int64_t b1) {
        detail::maxpool2x2_blocked16_avx512(x + b0 * 16 * h * w, b1 - b0, h, w,
                                            y + b0 * 16 * pooled, arg + b0 * 2 * pooled);
      },
      blocks * 16 * h * w);
}

void maxunpool2x2_blocked16(const float* dy, const uint16_t* arg, int64_t blocks, int64_t h,
                            int64_t w, float* dx) {
  const int64_t pooled = (h / 2) * (w / 2);
  for_range(
      blocks,
      [=](int64_t b0, int64_t b1) {
        detail::maxunpool2x2_blocked16_avx512(dy + b0 * 16 * pooled, arg + b0 * 2 * pooled, b1 - b0,
                                              h, w, dx + b0 * 16 * h * w);
      },
      blocks * 16 * h * w);
}

}  // namespace sculpt::kernels

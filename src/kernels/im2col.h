// im2col / col2im for one NCHW image with stride and zero padding, so that a convolution becomes
// a matrix multiply: y[oc, oh*ow] = W[oc, c*kh*kw] * col[c*kh*kw, oh*ow]. Also a direct
// (seven-loop) convolution, forward and both gradients, as the reference for tests.
#pragma once

#include <cstdint>

namespace sculpt::kernels {

// Geometry of a 2-D convolution over one [c, h, w] image.
struct ConvGeometry {
  int64_t c = 1, h = 1, w = 1;  // input channels and size
  int64_t kh = 1, kw = 1;       // kernel size
  int64_t stride = 1, pad = 0;  // same in both directions; zero padding
  int64_t oh() const { return (h + 2 * pad - kh) / stride + 1; }
  int64_t ow() const { return (w + 2 * pad - kw) / stride + 1; }
  int64_t col_rows() const { return c * kh * kw; }
  int64_t col_cols() const { return oh() * ow(); }
};

// SCULPT_CONV in the environment: "im2col", "direct" or "onednn" runs every convolution that
// path can run on it; unset or "auto" lets nn::Conv2d choose by geometry.
const char* conv_path_override();

// col [c*kh*kw, oh*ow]: row (ci, ki, kj), column (oy, ox) holds img[ci, oy*s - p + ki, ...]
// (0 outside the image). Rows are `ld` floats apart (0: oh*ow), so the columns of several
// images can sit side by side in one matrix [c*kh*kw, images * oh*ow].
void im2col(const float* img, const ConvGeometry& g, float* col, int64_t ld = 0);
// The adjoint of im2col: img [c, h, w] is OVERWRITTEN with the sum of the column entries that
// map to each pixel. Entries of `col` that map to the padding may be set to 0 (a "same"
// convolution then adds each row as one contiguous block).
void col2im(float* col, const ConvGeometry& g, float* img, int64_t ld = 0);

// Direct convolution over a batch of n images (reference, double accumulation).
// x [n, c, h, w], w [oc, c, kh, kw], b [oc] (may be null), y [n, oc, oh, ow] (written).
void conv2d_forward_reference(const float* x, const float* w, const float* b, int64_t n,
                              const ConvGeometry& g, int64_t out_c, float* y);
// dx (may be null) is WRITTEN; dw and db (may be null) are ADDED to, like Layer::backward.
void conv2d_backward_reference(const float* x, const float* w, const float* dy, int64_t n,
                               const ConvGeometry& g, int64_t out_c, float* dx, float* dw,
                               float* db);

}  // namespace sculpt::kernels

// A direct stride-1 convolution for AVX-512 CPUs, for the convolutions with few input channels
// that neither im2col + gemm (a 25-row column matrix for a 6-row weight matrix: the copy costs
// as much as the product) nor oneDNN (fewer than 8 channels pad to a whole 16-channel block)
// run well: LeNet-5's two and the first of the seed CNN. NCHW in and out, no reorders.
//
// Forward: each output row is V <= 4 vectors of 16 columns (masked at the row's end), OB output
// channels at once in OB*V zmm accumulators; every tap (ci, ky, kx) loads the V input vectors
// once from a zero-padded copy of the image and multiplies them by OB broadcast weights.
// Backward-data is the same kernel on dY padded by k-1-p with the weights flipped and
// transposed (c and out_c swapped). Backward-weights keeps OB x kw vector accumulators per
// (ci, ky) over a chunk of images and adds their horizontal sums to per-thread partials, which
// are added in thread order (deterministic for a fixed thread count).
//
// Images are split statically over the threads; every buffer is sized at construction, so a
// call allocates nothing. im2col + gemm (nn::Conv2d's own path) is the reference twin.
#pragma once

#include <cstdint>

#include "core/tensor.h"
#include "kernels/im2col.h"

namespace sculpt::kernels {

class DirectConv {
 public:
  // Stride 1, output rows (and, for backward-data, input rows) at most 64 wide, kernel width at
  // most 7, padding smaller than the kernel, and a CPU with AVX-512F.
  // Whether the kernels run at sculpt::isa() (they need AVX-512).
  static bool available();
  static bool supported(const ConvGeometry& g);
  // Whether nn::Conv2d should take this path: supported and fewer than 8 input channels, or
  // any supported geometry under SCULPT_CONV=direct (none under another SCULPT_CONV).
  static bool preferred(const ConvGeometry& g);
  // Floats a DirectConv for `threads` threads holds (saturating).
  static int64_t scratch_floats(const ConvGeometry& g, int64_t out_c, int threads);

  // relu: forward writes max(y, 0) (a fused ReLU).
  DirectConv(const ConvGeometry& g, int64_t out_c, int threads, bool relu = false);

  // x [n, c, h, w], w [oc, c, kh, kw], b [oc] -> y [n, oc, oh, ow] (written).
  void forward(const float* x, const float* w, const float* b, float* y, int64_t n);
  // As Layer::backward: dx (may be null) is WRITTEN, dw and db are ADDED to. mask (null unless
  // the ReLU is fused: the forward's y) zeroes dY where it is not positive.
  void backward(const float* x, const float* w, const float* dy, const float* mask, float* dx,
                float* dw, float* db, int64_t n);

 private:
  // Threads for n images (1 inside a parallel region).
  int threads_for(int64_t n) const;
  // Copies image i of x into thread t's padded slot j (the border stays zero).
  void pad_input(const float* x, int64_t i, int t, int64_t j);

  ConvGeometry g_;   // the layer's
  ConvGeometry gt_;  // backward-data: dY [oc, oh, ow] padded by k-1-p, out_c = c
  int64_t oc_;
  int threads_;
  bool relu_;
  int64_t chunk_;                // images per backward-weights chunk
  int64_t x_slot_, dy_slot_;     // floats of one padded image / padded dY
  AlignedVector<float> xpad_;    // [threads, chunk_, x_slot_]
  AlignedVector<float> dypad_;   // [threads, dy_slot_]
  AlignedVector<float> dymask_;  // [threads, chunk_, oc*oh*ow]: a chunk's masked dY (relu_)
  AlignedVector<float> wt_;      // [c, oc, kh, kw]: flipped, transposed weights
  AlignedVector<float> part_;    // [threads, oc * c*kh*kw + oc]: dW, db partials
};

}  // namespace sculpt::kernels

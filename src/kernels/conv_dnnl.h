// A convolution through oneDNN's primitives: forward, backward-data and backward-weights run in
// the blocked layout oneDNN chooses for this CPU (nChw8c with AVX2, nChw16c with AVX-512: its
// direct "jit" kernels), reordered from and to NCHW at the layer's boundary. The input's blocked
// copy made by the forward pass is reused by the backward pass. The im2col + gemm path of
// nn::Conv2d is the reference twin (tests compare the two within 1e-5 relative).
//
// Primitives are made for each batch size met (the reserved batch at reserve(), another one the
// first time it comes, the last four kept); buffers, including oneDNN's scratchpad, are owned
// here and sized at reserve(), so a step at a known batch size allocates nothing.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "kernels/im2col.h"

namespace sculpt::kernels {

class DnnlConv {
 public:
  // Whether this geometry should take oneDNN's primitives: at least 8 input channels (a 1- or
  // 6-channel image pads to a whole 8- or 16-channel block) and a kernel wider than 1 (a 1x1
  // convolution is one gemm already). SCULPT_CONV=onednn in the environment says yes to all
  // (the layer still keeps im2col where oneDNN has only its reference kernel), im2col or
  // direct no to all.
  static bool preferred(const ConvGeometry& g, int64_t out_c);
  // Floats reserve(max_batch) allocates, saturating (an estimate before the primitives exist:
  // blocked copies of input and output padded to 16 channels, twice, the weights twice, and
  // the output once more for a fused ReLU's masked dY).
  static int64_t scratch_floats(const ConvGeometry& g, int64_t out_c, int64_t max_batch);

  // Makes the primitives for max_batch images; throws sculpt::Error when oneDNN has no fast
  // implementation for them (only its reference one), so the caller keeps im2col.
  // relu: the forward applies max(y, 0) as a post-op (a fused ReLU). pool (with relu): a 2x2
  // max-pool with stride 2 follows, applied here when pools() says so: forward then writes the
  // pooled output [n, oc, oh/2, ow/2], and backward takes its gradient, with the pooled output
  // as the mask (the ReLU passed a window's maximum when the pooled value is positive).
  DnnlConv(const ConvGeometry& g, int64_t out_c, int64_t max_batch, bool relu = false,
           bool pool = false);
  // Whether the max-pool asked for is applied here: the blocked layout is whole 16-channel
  // blocks and the CPU has AVX-512 (the pooling runs on the blocked output, and only the pooled
  // quarter is reordered to NCHW).
  bool pools() const;
  ~DnnlConv();
  DnnlConv(const DnnlConv&) = delete;
  DnnlConv& operator=(const DnnlConv&) = delete;

  // x [n, c, h, w], w [oc, c, kh, kw], b [oc] -> y [n, oc, oh, ow] (written). n <= max_batch.
  void forward(const float* x, const float* w, const float* b, float* y, int64_t n);
  // As Layer::backward: dx (may be null) is WRITTEN, dw and db are ADDED to. x is the input of
  // the preceding forward call. mask (null unless the ReLU is fused: the forward's y) zeroes dY
  // where it is not positive, in the same pass that reorders dY to the blocked layout when that
  // is 16-channel blocks of whole blocks.
  void backward(const float* x, const float* w, const float* dy, const float* mask, float* dx,
                float* dw, float* db, int64_t n);
  // oneDNN's names of the forward, backward-data and backward-weights implementations.
  std::string implementation() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace sculpt::kernels

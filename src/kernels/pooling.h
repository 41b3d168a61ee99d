// 2-D max and average pooling over NCHW batches, like PyTorch's MaxPool2d / AvgPool2d with
// ceil_mode=False and (for average) count_include_pad=True. Max pooling pads with -inf, breaks
// ties by the first maximum in scan order and lets NaN take over (PyTorch's rule); it stores the argmax (index into
// the input plane, y*w + x) so that backward is a scatter.
#pragma once

#include <cstdint>

namespace sculpt::kernels {

struct PoolGeometry {
  int64_t c = 1, h = 1, w = 1;  // input channels and size
  int64_t k = 2, stride = 2, pad = 0;
  int64_t oh() const { return (h + 2 * pad - k) / stride + 1; }
  int64_t ow() const { return (w + 2 * pad - k) / stride + 1; }
};

// x [n, c, h, w] -> y [n, c, oh, ow]; argmax [n, c, oh, ow].
void maxpool2d_forward(const float* x, int64_t n, const PoolGeometry& g, float* y,
                       int32_t* argmax);
// dx [n, c, h, w] is WRITTEN (zeros, then dy scattered to the argmax positions).
void maxpool2d_backward(const float* dy, const int32_t* argmax, int64_t n, const PoolGeometry& g,
                        float* dx);
// Average over the k*k window (padding counts as zeros in the divisor).
void avgpool2d_forward(const float* x, int64_t n, const PoolGeometry& g, float* y);
// dx is WRITTEN.
void avgpool2d_backward(const float* dy, int64_t n, const PoolGeometry& g, float* dx);

// Reference twins: the max backward recomputes the argmax from x.
void maxpool2d_forward_reference(const float* x, int64_t n, const PoolGeometry& g, float* y);
void maxpool2d_backward_reference(const float* x, const float* dy, int64_t n,
                                  const PoolGeometry& g, float* dx);
void avgpool2d_forward_reference(const float* x, int64_t n, const PoolGeometry& g, float* y);
void avgpool2d_backward_reference(const float* dy, int64_t n, const PoolGeometry& g, float* dx);

}  // namespace sculpt::kernels

// A graph's Linear or Conv2d on the CSR kernels (src/sparse), standing in for the dense layer
// it wraps: the same name, kind, shapes and parameters, so the model builds and loads exactly as
// the dense one. Evaluation only (backward throws). Activations stay sample-major, as everywhere
// in a graph: at batch 1 a Linear runs SpMV (the windowed layout when it is the faster one), a
// batch runs SpMM on the transposed batch and transposes back, and a convolution runs im2col +
// SpMM image by image.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "core/tensor.h"
#include "kernels/im2col.h"
#include "nn/layer.h"
#include "sparse/csr.h"
#include "sparse/windowed.h"

namespace sculpt::infer {

// im2col + SpMM per image: x [n, c, h, w] -> y [n, rows of w, oh, ow]. `cols` holds `threads`
// buffers of g.col_rows() * g.col_cols() floats; images go over the threads for batches, and
// one image lets the kernel use the threads itself.
void sparse_conv(const sparse::Csr& w, const kernels::ConvGeometry& g, const float* bias,
                 sparse::Act act, const float* x, float* y, int64_t n, float* cols, int threads);

class SparseLayer final : public nn::Layer {
 public:
  explicit SparseLayer(std::unique_ptr<nn::Layer> dense);
  std::string_view kind() const override { return dense_->kind(); }
  nn::LayerTraits traits() const override { return dense_->traits(); }
  std::string describe() const override { return dense_->describe() + " [sparse]"; }
  Shape bind(const Shape& in) override;
  void declare(ParamStore& ps) override { dense_->declare(ps); }
  void reserve(int64_t max_batch) override;
  int64_t scratch_floats(int64_t max_batch, int threads) const override;
  // The CSR form of the weight now in ps: call once the tensors are loaded.
  void prepare(const ParamStore& ps);
  void forward(ParamStore& ps, const float* x, float* y, int64_t n, const nn::Pass& pass) override;
  void backward(ParamStore& ps, const float* x, const float* y, const float* dy, float* dx,
                int64_t n) override;

 private:
  std::unique_ptr<nn::Layer> dense_;
  sparse::Csr csr_;
  sparse::Windowed windowed_;  // a Linear's batch-1 layout, when it is the faster one
  const float* bias_ = nullptr;
  AlignedVector<float> scratch_;  // a Linear's transposed batch in and out; a conv's im2col
  int threads_ = 1;               // im2col buffers in scratch_
};

}  // namespace sculpt::infer

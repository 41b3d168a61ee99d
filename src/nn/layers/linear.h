// Linear (fully connected): y = x W^T + b with W [out, in], b [out]; x [n, in], y [n, out].
// On a sequence [steps, in] it applies to every position, as torch's Linear on its last axis:
// [steps, in] -> [steps, out]; its units are then the last axis (traits: sequence).
#pragma once

#include <cstdint>

#include "core/tensor.h"
#include "nn/layer.h"

namespace sculpt::nn {

class Linear : public Layer {
 public:
  // in_features == 0: taken from the bound input shape; else the input must match it.
  Linear(std::string name, int64_t out_features, int64_t in_features = 0);

  std::string_view kind() const override { return "linear"; }
  LayerTraits traits() const override {
    return {.weight = weight_, .bias = bias_, .units = out_features_, .sequence = in_.size() == 2};
  }
  std::string describe() const override;
  Shape bind(const Shape& in) override;
  void declare(ParamStore& ps) override;
  void init(ParamStore& ps, Rng& rng) override;
  void reserve(int64_t max_batch) override;
  int64_t scratch_floats(int64_t max_batch, int threads) const override;
  void forward(ParamStore& ps, const float* x, float* y, int64_t n, const Pass& pass) override;
  void backward(ParamStore& ps, const float* x, const float* y, const float* dy, float* dx,
                int64_t n) override;
  // The bias pass after the product applies a following ReLU too; backward masks dY in its
  // bias-gradient pass (kernels::add_rows_relu, relu_backward_column_sums).
  bool fuse_relu(bool on) override {
    relu_ = on;
    return true;
  }
  // bf16: x, W and dY rounded to bfloat16 once per pass, the three products on
  // kernels::gemm_bf16 (fp32 accumulation into y, dW and dx).
  bool set_precision(Precision p) override {
    bf16_ = p == Precision::kBf16;
    return true;
  }
  // What runs the bf16 forward product over `samples` samples (gemm_bf16_implementation).
  std::string bf16_path(int64_t samples) const;

  int64_t in_features() const { return in_features_; }
  int64_t out_features() const { return out_features_; }
  size_t weight_index() const { return weight_; }
  size_t bias_index() const { return bias_; }

 private:
  int64_t out_features_, in_features_;
  int64_t positions_ = 1;  // rows per sample: the steps of a sequence input
  // y = x W^T, and its backward dW += dY^T x, dx = dY W (dx may be null): fp32 or bf16.
  void product(ParamStore& ps, const float* x, float* y, int64_t n);
  void product_backward(ParamStore& ps, const float* x, const float* dy, float* dx, int64_t n);

  size_t weight_ = 0, bias_ = 0;
  bool relu_ = false;             // applies the following ReLU (fuse_relu)
  AlignedVector<float> dmasked_;  // fused ReLU: dY where the ReLU passed, [max_batch rows, out]
  bool bf16_ = false;             // products in bf16 (set_precision)
  // bf16: x [rows, in] and W [out, in] as the last forward rounded them, and dY [rows, out].
  AlignedVector<uint16_t> xb_, wb_, dyb_;
};

}  // namespace sculpt::nn

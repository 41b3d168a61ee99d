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

  int64_t in_features() const { return in_features_; }
  int64_t out_features() const { return out_features_; }
  size_t weight_index() const { return weight_; }
  size_t bias_index() const { return bias_; }

 private:
  int64_t out_features_, in_features_;
  int64_t positions_ = 1;  // rows per sample: the steps of a sequence input
  size_t weight_ = 0, bias_ = 0;
  bool relu_ = false;             // applies the following ReLU (fuse_relu)
  AlignedVector<float> dmasked_;  // fused ReLU: dY where the ReLU passed, [max_batch rows, out]
};

}  // namespace sculpt::nn

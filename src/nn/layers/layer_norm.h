// LayerNorm over each sample's whole shape, as torch.nn.LayerNorm(normalized_shape = the
// per-sample input shape) with its elementwise affine: for a sample x of D values,
//   mu = mean(x), var = mean((x - mu)^2) (biased), r = 1 / sqrt(var + eps)
//   xhat = (x - mu) r;  y = gamma * xhat + beta       gamma, beta of the input's shape
// backward (per sample, g = dy * gamma):
//   dx = r * (g - mean(g) - xhat * mean(g * xhat));  dgamma += dy * xhat;  dbeta += dy
// Statistics in double. It mixes every feature of a sample, so structured pruning stops at it.
#pragma once

#include <cstdint>
#include <vector>

#include "nn/layer.h"

namespace sculpt::nn {

class LayerNorm final : public Layer {
 public:
  LayerNorm(std::string name, double eps) : Layer(std::move(name)), eps_(eps) {}
  std::string_view kind() const override { return "layernorm"; }
  std::string describe() const override;
  Shape bind(const Shape& in) override;
  void declare(ParamStore& ps) override;
  void init(ParamStore& ps, Rng& rng) override;
  void reserve(int64_t max_batch) override;
  int64_t scratch_floats(int64_t max_batch, int) const override {
    return mul_sat(max_batch, 4);  // mean and 1/std per sample, in double
  }
  void forward(ParamStore& ps, const float* x, float* y, int64_t n, const Pass& pass) override;
  void backward(ParamStore& ps, const float* x, const float* y, const float* dy, float* dx,
                int64_t n) override;

 private:
  double eps_;
  int64_t width_ = 0;  // D, values per sample
  size_t weight_ = 0, bias_ = 0;
  std::vector<double> mean_, rstd_;  // per sample of the last forward
};

}  // namespace sculpt::nn

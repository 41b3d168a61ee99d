// BatchNorm, as torch.nn.BatchNorm1d (input [C] or [C, L]) and BatchNorm2d (input [C, H, W]):
// per channel c, over the batch and the positions of c (M values):
//   training:   mu, var = mean and biased variance of the batch;  r = 1 / sqrt(var + eps)
//               running_mean = (1 - momentum) running_mean + momentum mu
//               running_var  = (1 - momentum) running_var  + momentum var * M / (M - 1)
//   evaluation: mu, var = running_mean, running_var
//   xhat = (x - mu) r;  y = gamma xhat + beta
// backward (training): dx = gamma r / M * (M dy - sum(dy) - xhat sum(dy xhat));
//          (evaluation): dx = gamma r dy;  dgamma += sum(dy xhat);  dbeta += sum(dy)
// The running statistics are buffers in the ParamStore ("<name>.running_mean", ".running_var"):
// checkpointed and resumed exactly, never optimized, decayed or pruned. Sums: each image's plane
// in float, the planes added up in double.
#pragma once

#include <cstdint>
#include <vector>

#include "nn/layer.h"

namespace sculpt::nn {

class BatchNorm final : public Layer {
 public:
  // dims 1: inputs [C] or [C, L] (BatchNorm1d); dims 2: [C, H, W] (BatchNorm2d).
  BatchNorm(std::string name, int dims, double momentum, double eps)
      : Layer(std::move(name)), dims_(dims), momentum_(momentum), eps_(eps) {}
  std::string_view kind() const override { return dims_ == 1 ? "batchnorm1d" : "batchnorm2d"; }
  LayerTraits traits() const override {
    return {.keeps_channels = true,
            .channel_params = {weight_, bias_, running_mean_, running_var_}};
  }
  std::string describe() const override;
  Shape bind(const Shape& in) override;
  void declare(ParamStore& ps) override;
  void init(ParamStore& ps, Rng& rng) override;
  void forward(ParamStore& ps, const float* x, float* y, int64_t n, const Pass& pass) override;
  void backward(ParamStore& ps, const float* x, const float* y, const float* dy, float* dx,
                int64_t n) override;
  // Stores max(y, 0), and masks dY by the output where it reads it: the bits of the layers apart.
  bool fuse_relu(bool on) override {
    relu_ = on;
    return true;
  }

 private:
  // Sets mean_ and rstd_ per channel from the batch (training, updating the running
  // statistics) or from the running statistics (evaluation).
  void statistics(ParamStore& ps, const float* x, int64_t n, bool training);
  // backward, with dY masked by y > 0 where Relu is std::true_type (the fused ReLU).
  template <class Relu>
  void backward_masked(ParamStore& ps, const float* x, const float* y, const float* dy, float* dx,
                       int64_t n, Relu relu);

  int dims_;
  double momentum_, eps_;
  int64_t channels_ = 0, positions_ = 0;  // per sample: C and the values per channel
  size_t weight_ = 0, bias_ = 0, running_mean_ = 0, running_var_ = 0;
  std::vector<double> mean_, rstd_;  // per channel, of the last forward
  bool trained_ = false;             // the last forward normalised by batch statistics
  bool relu_ = false;                // applies the following ReLU (fuse_relu)
};

}  // namespace sculpt::nn

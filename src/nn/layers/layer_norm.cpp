// LayerNorm: per-sample statistics, parallel over samples; the affine gradients summed over
// samples in order on one thread (deterministic).
#include "nn/layers/layer_norm.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

#include "core/error.h"
#include "core/parallel.h"

namespace sculpt::nn {

std::string LayerNorm::describe() const {
  return fmt::format("{} LayerNorm({}, eps {})", name(), to_string(in_), eps_);
}

Shape LayerNorm::bind(const Shape& in) {
  width_ = numel(in);
  in_ = in;
  out_ = in;
  return out_;
}

void LayerNorm::declare(ParamStore& ps) {
  // Neither decayed nor pruned: a gain of 0 would silence the feature, not remove it.
  weight_ = ps.add(name() + ".weight", in_, {.decays = false, .prunable = false});
  bias_ = ps.add(name() + ".bias", in_, {.decays = false, .prunable = false});
}

void LayerNorm::init(ParamStore& ps, Rng&) {
  std::fill_n(ps.value(weight_), width_, 1.0f);
  std::fill_n(ps.value(bias_), width_, 0.0f);
}

void LayerNorm::reserve(int64_t max_batch) {
  mean_.assign(static_cast<size_t>(max_batch), 0.0);
  rstd_.assign(static_cast<size_t>(max_batch), 0.0);
}

void LayerNorm::forward(ParamStore& ps, const float* x, float* y, int64_t n, const Pass&) {
  SCULPT_CHECK(
      static_cast<size_t>(n) <= mean_.size(), ConfigError,
      fmt::format("layer '{}' (layernorm): batch {} exceeds the reserved size", name(), n));
  const int64_t d = width_;
  const float* gamma = ps.value(weight_);
  const float* beta = ps.value(bias_);
  double* mean = mean_.data();
  double* rstd = rstd_.data();
  const double eps = eps_;
  for_range(
      n,
      [=](int64_t b, int64_t e) {
        for (int64_t s = b; s < e; ++s) {
          const float* xs = x + s * d;
          double sum = 0.0;
          for (int64_t j = 0; j < d; ++j) sum += xs[j];
          const double mu = sum / static_cast<double>(d);
          double sq = 0.0;
          for (int64_t j = 0; j < d; ++j) sq += (xs[j] - mu) * (xs[j] - mu);
          const double r = 1.0 / std::sqrt(sq / static_cast<double>(d) + eps);
          mean[s] = mu;
          rstd[s] = r;
          float* ys = y + s * d;
          for (int64_t j = 0; j < d; ++j)
            ys[j] = gamma[j] * static_cast<float>((xs[j] - mu) * r) + beta[j];
        }
      },
      n * d);
}

void LayerNorm::backward(ParamStore& ps, const float* x, const float*, const float* dy, float* dx,
                         int64_t n) {
  const int64_t d = width_;
  const float* gamma = ps.value(weight_);
  const double* mean = mean_.data();
  const double* rstd = rstd_.data();
  float* dgamma = ps.grad(weight_);
  float* dbeta = ps.grad(bias_);
  for (int64_t s = 0; s < n; ++s) {
    const float* xs = x + s * d;
    const float* dys = dy + s * d;
    for (int64_t j = 0; j < d; ++j) {
      dgamma[j] += dys[j] * static_cast<float>((xs[j] - mean[s]) * rstd[s]);
      dbeta[j] += dys[j];
    }
  }
  if (!dx) return;
  for_range(
      n,
      [=](int64_t b, int64_t e) {
        for (int64_t s = b; s < e; ++s) {
          const float* xs = x + s * d;
          const float* dys = dy + s * d;
          const double mu = mean[s], r = rstd[s];
          double g_sum = 0.0, gx_sum = 0.0;
          for (int64_t j = 0; j < d; ++j) {
            const double g = double{dys[j]} * gamma[j];
            g_sum += g;
            gx_sum += g * (xs[j] - mu) * r;
          }
          const double g_mean = g_sum / static_cast<double>(d);
          const double gx_mean = gx_sum / static_cast<double>(d);
          float* dxs = dx + s * d;
          for (int64_t j = 0; j < d; ++j) {
            const double g = double{dys[j]} * gamma[j];
            dxs[j] = static_cast<float>(r * (g - g_mean - (xs[j] - mu) * r * gx_mean));
          }
        }
      },
      n * d);
}

}  // namespace sculpt::nn

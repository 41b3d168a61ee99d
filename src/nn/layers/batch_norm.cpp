// BatchNorm: parallel over channels (each channel's statistics and values are its own).
#include "nn/layers/batch_norm.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <type_traits>

#include "core/error.h"
#include "core/parallel.h"

namespace sculpt::nn {

std::string BatchNorm::describe() const {
  return fmt::format("{} BatchNorm{}d({}, momentum {}, eps {})", name(), dims_, channels_,
                     momentum_, eps_);
}

Shape BatchNorm::bind(const Shape& in) {
  const bool fits = dims_ == 1 ? (in.size() == 1 || in.size() == 2) : in.size() == 3;
  SCULPT_CHECK(
      fits, ShapeError,
      fmt::format("layer '{}' ({}) expects an input {} but receives {}", name(), kind(),
                  dims_ == 1 ? "[features] or [channels, length]" : "[channels, height, width]",
                  to_string(in)),
      "", dims_ == 1 ? "use batchnorm2d after conv2d" : "use batchnorm1d after linear");
  channels_ = in[0];
  positions_ = numel(in) / channels_;
  mean_.assign(static_cast<size_t>(channels_), 0.0);
  rstd_.assign(static_cast<size_t>(channels_), 0.0);
  in_ = in;
  out_ = in;
  return out_;
}

void BatchNorm::declare(ParamStore& ps) {
  const Shape c{channels_};
  weight_ = ps.add(name() + ".weight", c, {.decays = false, .prunable = false});
  bias_ = ps.add(name() + ".bias", c, {.decays = false, .prunable = false});
  const ParamFlags buffer{.decays = false, .prunable = false, .trainable = false};
  running_mean_ = ps.add(name() + ".running_mean", c, buffer);
  running_var_ = ps.add(name() + ".running_var", c, buffer);
}

void BatchNorm::init(ParamStore& ps, Rng&) {
  std::fill_n(ps.value(weight_), channels_, 1.0f);
  std::fill_n(ps.value(bias_), channels_, 0.0f);
  std::fill_n(ps.value(running_mean_), channels_, 0.0f);
  std::fill_n(ps.value(running_var_), channels_, 1.0f);
}

void BatchNorm::statistics(ParamStore& ps, const float* x, int64_t n, bool training) {
  float* run_mean = ps.value(running_mean_);
  float* run_var = ps.value(running_var_);
  const double eps = eps_;
  if (!training) {
    for (int64_t c = 0; c < channels_; ++c) {
      mean_[size_t(c)] = run_mean[c];
      rstd_[size_t(c)] = 1.0 / std::sqrt(double{run_var[c]} + eps);
    }
    return;
  }
  const int64_t cs = channels_ * positions_, s = positions_, m = n * positions_;
  const double momentum = momentum_;
  double* mean = mean_.data();
  double* rstd = rstd_.data();
  for_range(
      channels_,
      [=](int64_t b, int64_t e) {
        for (int64_t c = b; c < e; ++c) {
          // Each image's plane in float lanes, the planes added up in double.
          double sum = 0.0;
          for (int64_t i = 0; i < n; ++i) {
            const float* xs = x + i * cs + c * s;
            float part = 0.0f;
#pragma omp simd reduction(+ : part)
            for (int64_t j = 0; j < s; ++j) part += xs[j];
            sum += part;
          }
          const double mu = sum / static_cast<double>(m);
          const float muf = static_cast<float>(mu);
          double sq = 0.0;
          for (int64_t i = 0; i < n; ++i) {
            const float* xs = x + i * cs + c * s;
            float part = 0.0f;
#pragma omp simd reduction(+ : part)
            for (int64_t j = 0; j < s; ++j) part += (xs[j] - muf) * (xs[j] - muf);
            sq += part;
          }
          const double var = sq / static_cast<double>(m);
          mean[c] = mu;
          rstd[c] = 1.0 / std::sqrt(var + eps);
          // torch keeps the unbiased variance; one value per channel has none, so it keeps 0.
          const double unbiased = m > 1 ? sq / static_cast<double>(m - 1) : 0.0;
          run_mean[c] = static_cast<float>((1.0 - momentum) * run_mean[c] + momentum * mu);
          run_var[c] = static_cast<float>((1.0 - momentum) * run_var[c] + momentum * unbiased);
        }
      },
      n * cs);
}

void BatchNorm::forward(ParamStore& ps, const float* x, float* y, int64_t n, const Pass& pass) {
  trained_ = pass.mode == Mode::kTrain;
  statistics(ps, x, n, trained_);
  const float* gamma = ps.value(weight_);
  const float* beta = ps.value(bias_);
  const int64_t cs = channels_ * positions_, s = positions_;
  const double* mean = mean_.data();
  const double* rstd = rstd_.data();
  const int64_t channels = channels_;
  const auto normalise = [=](auto relu) {
    for_range(
        channels,
        [=](int64_t b, int64_t e) {
          for (int64_t c = b; c < e; ++c) {
            // (x - mu) r first, as torch: one value per channel then gives exactly beta.
            const float mu = static_cast<float>(mean[c]), r = static_cast<float>(rstd[c]);
            const float gc = gamma[c], bc = beta[c];
            for (int64_t i = 0; i < n; ++i) {
              const float* xs = x + i * cs + c * s;
              float* ys = y + i * cs + c * s;
              for (int64_t j = 0; j < s; ++j) {
                const float v = gc * ((xs[j] - mu) * r) + bc;
                ys[j] = !relu || v > 0.0f ? v : 0.0f;  // ReLU's own test: NaN becomes 0
              }
            }
          }
        },
        n * cs);
  };
  if (relu_) {
    normalise(std::true_type{});
  } else {
    normalise(std::false_type{});
  }
}

void BatchNorm::backward(ParamStore& ps, const float* x, const float* y, const float* dy, float* dx,
                         int64_t n) {
  if (relu_) return backward_masked(ps, x, y, dy, dx, n, std::true_type{});
  backward_masked(ps, x, y, dy, dx, n, std::false_type{});
}

template <class Relu>
void BatchNorm::backward_masked(ParamStore& ps, const float* x, const float* y, const float* dy,
                                float* dx, int64_t n, Relu relu) {
  const float* gamma = ps.value(weight_);
  float* dgamma = ps.grad(weight_);
  float* dbeta = ps.grad(bias_);
  const int64_t cs = channels_ * positions_, s = positions_, m = n * positions_;
  const double* mean = mean_.data();
  const double* rstd = rstd_.data();
  const bool trained = trained_;
  for_range(
      channels_,
      [=](int64_t b, int64_t e) {
        for (int64_t c = b; c < e; ++c) {
          const float mu = static_cast<float>(mean[c]), r = static_cast<float>(rstd[c]);
          double sum_dy = 0.0, sum_dy_xhat = 0.0;
          for (int64_t i = 0; i < n; ++i) {
            const float* xs = x + i * cs + c * s;
            const float* ds = dy + i * cs + c * s;
            const float* ys = y + i * cs + c * s;
            float part_dy = 0.0f, part_dy_xhat = 0.0f;
#pragma omp simd reduction(+ : part_dy, part_dy_xhat)
            for (int64_t j = 0; j < s; ++j) {
              const float d = !relu || ys[j] > 0.0f ? ds[j] : 0.0f;  // the fused ReLU's dY
              part_dy += d;
              part_dy_xhat += d * ((xs[j] - mu) * r);
            }
            sum_dy += part_dy;
            sum_dy_xhat += part_dy_xhat;
          }
          dgamma[c] += static_cast<float>(sum_dy_xhat);
          dbeta[c] += static_cast<float>(sum_dy);
          if (!dx) continue;
          const float g = gamma[c] * r;
          const float mean_dy = trained ? static_cast<float>(sum_dy / static_cast<double>(m)) : 0;
          const float mean_dy_xhat =
              trained ? static_cast<float>(sum_dy_xhat / static_cast<double>(m)) : 0;
          for (int64_t i = 0; i < n; ++i) {
            const float* xs = x + i * cs + c * s;
            const float* ds = dy + i * cs + c * s;
            const float* ys = y + i * cs + c * s;
            float* dxs = dx + i * cs + c * s;
#pragma omp simd
            for (int64_t j = 0; j < s; ++j) {
              const float d = !relu || ys[j] > 0.0f ? ds[j] : 0.0f;
              dxs[j] = g * (d - mean_dy - (xs[j] - mu) * r * mean_dy_xhat);
            }
          }
        }
      },
      n * cs);
}

}  // namespace sculpt::nn

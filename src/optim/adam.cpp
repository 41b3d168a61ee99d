// Adam / AdamW / AMSGrad: moments, bias correction, decay and the update in one pass.
#include "optim/adam.h"

#include <cmath>

#include "optim/fused.h"

namespace sculpt::optim {

namespace {
template <class C>
std::vector<Field<C>> adam_fields() {
  return moment_fields<C>({
      {"amsgrad", &C::amsgrad, "use the running maximum of the second moment (AMSGrad)"},
  });
}
}  // namespace

const std::vector<Field<AdamConfig>>& AdamConfig::fields() {
  static const auto f = adam_fields<AdamConfig>();
  return f;
}
const std::vector<Field<AdamWConfig>>& AdamWConfig::fields() {
  static const auto f = adam_fields<AdamWConfig>();
  return f;
}
const std::vector<Field<AmsgradConfig>>& AmsgradConfig::fields() {
  static const auto f = adam_fields<AmsgradConfig>();
  return f;
}

Adam::Adam(std::string kind, AdamConfig cfg) : OptimizerWith(std::move(kind), std::move(cfg)) {
  add_state("exp_avg", m_);
  add_state("exp_avg_sq", v_);
  if (cfg_.amsgrad) add_state("max_exp_avg_sq", vmax_);
  set_momentum_slot(cfg_.beta1);
}

namespace {
template <bool kAms>
void adam_range(float* __restrict w, const float* __restrict g, float* __restrict m,
                float* __restrict v, float* __restrict vmax, int64_t lo, int64_t hi,
                const TensorStep& s, float b1, float b2, float c1, float c2, float step_size,
                float inv_sqrt_bc2, float eps) {
  const float l2 = s.l2, keep = s.keep;
#pragma omp simd
  for (int64_t i = lo; i < hi; ++i) {
    const float d = g[i] + l2 * w[i];
    const float mi = b1 * m[i] + c1 * d;
    float vi = b2 * v[i] + c2 * d * d;
    m[i] = mi;
    v[i] = vi;
    if constexpr (kAms) {
      vi = vi > vmax[i] ? vi : vmax[i];
      vmax[i] = vi;
    }
    w[i] = keep * w[i] - step_size * mi / (std::sqrt(vi) * inv_sqrt_bc2 + eps);
  }
}
}  // namespace

void Adam::update(ParamStore& ps, const std::vector<TensorStep>& steps, int64_t step) {
  const double t = static_cast<double>(step + 1);
  const double bc1 = 1.0 - std::pow(cfg_.beta1, t), bc2 = 1.0 - std::pow(cfg_.beta2, t);
  const float b1 = float(cfg_.beta1), b2 = float(cfg_.beta2), eps = float(cfg_.eps);
  // 1 - beta in double: 1.0f - float(0.999) is 1.3e-5 off 0.001 (PyTorch rounds 1 - beta2).
  const float c1 = float(1.0 - cfg_.beta1), c2 = float(1.0 - cfg_.beta2);
  const float inv_sqrt_bc2 = float(1.0 / std::sqrt(bc2));
  float* w = ps.values().data();
  const float* g = ps.grads().data();
  fused_pass(ps, steps, [&](const TensorStep& s, int64_t lo, int64_t hi) {
    const float step_size = float(double(s.lr) / bc1);
    if (cfg_.amsgrad)
      adam_range<true>(w, g, m_.data(), v_.data(), vmax_.data(), lo, hi, s, b1, b2, c1, c2,
                       step_size, inv_sqrt_bc2, eps);
    else
      adam_range<false>(w, g, m_.data(), v_.data(), nullptr, lo, hi, s, b1, b2, c1, c2, step_size,
                        inv_sqrt_bc2, eps);
  });
}

}  // namespace sculpt::optim

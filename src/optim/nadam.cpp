// NAdam: Adam's moments with a Nesterov look-ahead on the momentum schedule, one pass.
#include "optim/nadam.h"

#include <cmath>

#include "optim/fused.h"

namespace sculpt::optim {

const std::vector<Field<NadamConfig>>& NadamConfig::fields() {
  using C = NadamConfig;
  static const std::vector<Field<C>> f = moment_fields<C>({
      {"momentum_decay", &C::momentum_decay, at_least(0),
       "psi in the momentum schedule mu_t = beta1 * (1 - 0.5 * 0.96^(t * psi))"},
  });
  return f;
}

Nadam::Nadam(NadamConfig cfg) : OptimizerWith("nadam", std::move(cfg)) {
  add_state("exp_avg", m_);
  add_state("exp_avg_sq", v_);
  set_momentum_slot(cfg_.beta1);
}

void Nadam::start_state(const ParamStore&) {
  product_step_ = 0;
  product_ = 1.0;
}

double Nadam::mu(int64_t t) const {
  return cfg_.beta1 * (1.0 - 0.5 * std::pow(0.96, static_cast<double>(t) * cfg_.momentum_decay));
}

void Nadam::update(ParamStore& ps, const std::vector<TensorStep>& steps, int64_t step) {
  const int64_t t = step + 1;
  if (product_step_ > t) product_step_ = 0, product_ = 1.0;  // stepped back: recompute
  for (; product_step_ < t; ++product_step_) product_ *= mu(product_step_ + 1);
  const double mu_t = mu(t), mu_next = mu(t + 1);
  const double c_grad = (1.0 - mu_t) / (1.0 - product_);
  const double c_mom = mu_next / (1.0 - product_ * mu_next);
  const float inv_bc2 = float(1.0 / (1.0 - std::pow(cfg_.beta2, double(t))));
  const float b1 = float(cfg_.beta1), b2 = float(cfg_.beta2), eps = float(cfg_.eps);
  const float c1 = float(1.0 - cfg_.beta1), c2 = float(1.0 - cfg_.beta2);  // 1 - beta in double
  float* __restrict w = ps.values().data();
  const float* __restrict g = ps.grads().data();
  float* __restrict m = m_.data();
  float* __restrict v = v_.data();
  fused_pass(ps, steps, [&](const TensorStep& s, int64_t lo, int64_t hi) {
    const float a = float(s.lr * c_grad), b = float(s.lr * c_mom), l2 = s.l2, keep = s.keep;
#pragma omp simd
    for (int64_t i = lo; i < hi; ++i) {
      const float d = g[i] + l2 * w[i];
      const float mi = b1 * m[i] + c1 * d;
      const float vi = b2 * v[i] + c2 * d * d;
      m[i] = mi;
      v[i] = vi;
      const float den = std::sqrt(vi * inv_bc2) + eps;
      w[i] = keep * w[i] - (a * d + b * mi) / den;
    }
  });
}

}  // namespace sculpt::optim

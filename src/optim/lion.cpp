// Lion: the sign of an interpolated momentum, then the momentum update, in one pass.
#include "optim/lion.h"

#include "optim/common_fields.h"
#include "optim/fused.h"

namespace sculpt::optim {

const std::vector<Field<LionConfig>>& LionConfig::fields() {
  using C = LionConfig;
  static const std::vector<Field<C>> f = with_common<C>({
      {"beta1", &C::beta1, half_open(0, 1), "interpolation between momentum and g for the step"},
      {"beta2", &C::beta2, half_open(0, 1), "decay rate of the momentum"},
  });
  return f;
}

Lion::Lion(LionConfig cfg) : OptimizerWith("lion", std::move(cfg)) {
  add_state("exp_avg", m_);
  set_momentum_slot(cfg_.beta1);
}

void Lion::update(ParamStore& ps, const std::vector<TensorStep>& steps, int64_t) {
  const float b1 = float(cfg_.beta1), b2 = float(cfg_.beta2);
  const float c1 = float(1.0 - cfg_.beta1), c2 = float(1.0 - cfg_.beta2);  // 1 - beta in double
  float* __restrict w = ps.values().data();
  const float* __restrict g = ps.grads().data();
  float* __restrict m = m_.data();
  fused_pass(ps, steps, [&](const TensorStep& s, int64_t lo, int64_t hi) {
    const float lr = float(s.lr), l2 = s.l2, keep = s.keep;
#pragma omp simd
    for (int64_t i = lo; i < hi; ++i) {
      const float d = g[i] + l2 * w[i];
      const float c = b1 * m[i] + c1 * d;
      const float sign = c > 0.0f ? 1.0f : (c < 0.0f ? -1.0f : 0.0f);
      w[i] = keep * w[i] - lr * sign;
      m[i] = b2 * m[i] + c2 * d;
    }
  });
}

}  // namespace sculpt::optim

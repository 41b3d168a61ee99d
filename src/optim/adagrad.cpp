// AdaGrad: accumulate the squared gradient and step in one pass.
#include "optim/adagrad.h"

#include <cmath>

#include "optim/common_fields.h"
#include "optim/fused.h"

namespace sculpt::optim {

const std::vector<Field<AdagradConfig>>& AdagradConfig::fields() {
  using C = AdagradConfig;
  static const std::vector<Field<C>> f = with_common<C>({
      {"lr_decay", &C::lr_decay, at_least(0), "the rate is lr / (1 + step * lr_decay)"},
      {"initial_accumulator", &C::initial_accumulator, at_least(0),
       "starting value of the sum of squared gradients"},
      {"eps", &C::eps, greater_than(0), "added to the denominator"},
  });
  return f;
}

Adagrad::Adagrad(AdagradConfig cfg) : OptimizerWith("adagrad", std::move(cfg)) {
  add_state("sum", sum_, float(cfg_.initial_accumulator));
}

void Adagrad::update(ParamStore& ps, const std::vector<TensorStep>& steps, int64_t step) {
  const double decay = 1.0 + static_cast<double>(step) * cfg_.lr_decay;
  const float eps = float(cfg_.eps);
  float* __restrict w = ps.values().data();
  const float* __restrict g = ps.grads().data();
  float* __restrict sum = sum_.data();
  fused_pass(ps, steps, [&](const TensorStep& s, int64_t lo, int64_t hi) {
    const float clr = float(s.lr / decay), l2 = s.l2, keep = s.keep;
#pragma omp simd
    for (int64_t i = lo; i < hi; ++i) {
      const float d = g[i] + l2 * w[i];
      const float si = sum[i] + d * d;
      sum[i] = si;
      w[i] = keep * w[i] - clr * d / (std::sqrt(si) + eps);
    }
  });
}

}  // namespace sculpt::optim

// RMSprop: running mean square (optionally centered) and optional momentum in one pass.
#include "optim/rmsprop.h"

#include <cmath>

#include "optim/common_fields.h"
#include "optim/fused.h"

namespace sculpt::optim {

const std::vector<Field<RmspropConfig>>& RmspropConfig::fields() {
  using C = RmspropConfig;
  static const std::vector<Field<C>> f = with_common<C>({
      {"alpha", &C::alpha, half_open(0, 1), "decay rate of the mean square of g"},
      {"eps", &C::eps, greater_than(0), "added to the denominator"},
      {"momentum", &C::momentum, half_open(0, 1), "momentum on the normalised step (0: none)"},
      {"centered", &C::centered, "divide by the variance of g instead of its mean square"},
  });
  return f;
}

Rmsprop::Rmsprop(RmspropConfig cfg) : OptimizerWith("rmsprop", std::move(cfg)) {
  add_state("square_avg", sq_);
  if (cfg_.centered) add_state("grad_avg", avg_);
  if (cfg_.momentum > 0) {
    add_state("momentum", buf_);
    set_momentum_slot(cfg_.momentum);
  }
}

namespace {
template <bool kCentered, bool kMomentum>
void rmsprop_range(float* __restrict w, const float* __restrict g, float* __restrict sq,
                   float* __restrict avg, float* __restrict buf, int64_t lo, int64_t hi,
                   const TensorStep& s, float alpha, float c, float eps, float mu) {
  const float lr = float(s.lr), l2 = s.l2, keep = s.keep;
#pragma omp simd
  for (int64_t i = lo; i < hi; ++i) {
    const float d = g[i] + l2 * w[i];
    const float si = alpha * sq[i] + c * d * d;
    sq[i] = si;
    float den;
    if constexpr (kCentered) {
      const float ai = alpha * avg[i] + c * d;
      avg[i] = ai;
      den = std::sqrt(si - ai * ai) + eps;
    } else {
      den = std::sqrt(si) + eps;
    }
    if constexpr (kMomentum) {
      const float bi = mu * buf[i] + d / den;
      buf[i] = bi;
      w[i] = keep * w[i] - lr * bi;
    } else {
      w[i] = keep * w[i] - lr * d / den;
    }
  }
}
}  // namespace

void Rmsprop::update(ParamStore& ps, const std::vector<TensorStep>& steps, int64_t) {
  const float alpha = float(cfg_.alpha), eps = float(cfg_.eps), mu = float(cfg_.momentum);
  const float c = float(1.0 - cfg_.alpha);  // in double: 1.0f - float(alpha) loses digits
  float* w = ps.values().data();
  const float* g = ps.grads().data();
  const bool centered = cfg_.centered, momentum = !buf_.empty();
  fused_pass(ps, steps, [&](const TensorStep& s, int64_t lo, int64_t hi) {
    auto run = [&]<bool kC, bool kM>() {
      rmsprop_range<kC, kM>(w, g, sq_.data(), avg_.data(), buf_.data(), lo, hi, s, alpha, c, eps,
                            mu);
    };
    if (centered && momentum)
      run.template operator()<true, true>();
    else if (centered)
      run.template operator()<true, false>();
    else if (momentum)
      run.template operator()<false, true>();
    else
      run.template operator()<false, false>();
  });
}

}  // namespace sculpt::optim

// SGD: one fused pass per element (decay, momentum, Nesterov and the update together).
#include "optim/sgd.h"

#include "core/error.h"
#include "optim/fused.h"

namespace sculpt::optim {

const std::vector<Field<SgdConfig>>& SgdConfig::fields() {
  static const std::vector<Field<SgdConfig>> f = sgd_fields<SgdConfig>();
  return f;
}

Sgd::Sgd(std::string kind, SgdConfig cfg) : OptimizerWith(std::move(kind), std::move(cfg)) {
  SCULPT_CHECK(!cfg_.nesterov || (cfg_.momentum > 0 && cfg_.dampening == 0), ConfigError,
               "Nesterov momentum needs momentum > 0 and dampening = 0", "optim.nesterov",
               "set optim.momentum (e.g. 0.9) or optim.nesterov = false");
  SCULPT_CHECK(cfg_.momentum_form == MomentumForm::kPytorch || cfg_.dampening == 0, ConfigError,
               "the ema momentum form has its own dampening (1 - momentum)", "optim.dampening",
               "remove optim.dampening or use momentum_form = \"pytorch\"");
  if (cfg_.momentum > 0) {
    add_state("momentum", velocity_);
    set_momentum_slot(cfg_.momentum);
  }
}

namespace {

template <bool kMomentum, bool kNesterov>
void sgd_range(float* __restrict w, const float* __restrict g, float* __restrict v, int64_t lo,
               int64_t hi, const TensorStep& s, float keep_v, float take, float mu) {
  const float lr = static_cast<float>(s.lr), l2 = s.l2, keep = s.keep;
#pragma omp simd
  for (int64_t i = lo; i < hi; ++i) {
    float d = g[i] + l2 * w[i];
    if constexpr (kMomentum) {
      const float vi = keep_v * v[i] + take * d;
      v[i] = vi;
      d = kNesterov ? d + mu * vi : vi;
    }
    w[i] = keep * w[i] - lr * d;
  }
}

}  // namespace

void Sgd::update(ParamStore& ps, const std::vector<TensorStep>& steps, int64_t step) {
  const float mu = static_cast<float>(cfg_.momentum);
  const bool ema = cfg_.momentum_form == MomentumForm::kEma;
  const bool first = step == 0 && !ema;  // PyTorch starts the buffer at the first gradient
  const float keep_v = first ? 0.0f : mu;
  // 1 - mu and 1 - dampening in double: 1.0f - float(x) loses digits for x near 1.
  const float take = first ? 1.0f : float(1.0 - (ema ? cfg_.momentum : cfg_.dampening));
  float* w = ps.values().data();
  const float* g = ps.grads().data();
  float* v = velocity_.data();
  fused_pass(ps, steps, [&](const TensorStep& s, int64_t lo, int64_t hi) {
    if (velocity_.empty())
      sgd_range<false, false>(w, g, v, lo, hi, s, keep_v, take, mu);
    else if (cfg_.nesterov)
      sgd_range<true, true>(w, g, v, lo, hi, s, keep_v, take, mu);
    else
      sgd_range<true, false>(w, g, v, lo, hi, s, keep_v, take, mu);
  });
}

}  // namespace sculpt::optim

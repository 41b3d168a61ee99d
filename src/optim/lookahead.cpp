// Lookahead: SGD's fused step on the fast weights, then every k steps one fused pass that moves
// the slow weights towards them and puts the fast weights back on the slow ones.
#include "optim/lookahead.h"

#include <algorithm>

#include "optim/fused.h"

namespace sculpt::optim {

const std::vector<Field<LookaheadConfig>>& LookaheadConfig::fields() {
  using C = LookaheadConfig;
  static const std::vector<Field<C>> f = sgd_fields<C>({
      {"k", &C::k, at_least(1), "fast (SGD) steps between two updates of the slow weights"},
      {"alpha", &C::alpha, Range{.min = 0, .max = 1, .min_open = true},
       "slow step size: phi = phi + alpha*(w - phi) every k steps (1: plain SGD)"},
  });
  return f;
}

Lookahead::Lookahead(LookaheadConfig cfg) : Sgd("lookahead", cfg), k_(cfg.k), alpha_(cfg.alpha) {
  add_state("slow_weights", slow_);
}

void Lookahead::start_state(const ParamStore& ps) {
  std::copy(ps.values().begin(), ps.values().end(), slow_.begin());
}

void Lookahead::update(ParamStore& ps, const std::vector<TensorStep>& steps, int64_t step) {
  Sgd::update(ps, steps, step);
  if ((step + 1) % k_ != 0) return;
  const float a = static_cast<float>(alpha_);
  float* __restrict w = ps.values().data();
  float* __restrict phi = slow_.data();
  fused_pass(ps, steps, [&](const TensorStep&, int64_t lo, int64_t hi) {
#pragma omp simd
    for (int64_t i = lo; i < hi; ++i) {
      const float p = phi[i] + a * (w[i] - phi[i]);
      phi[i] = p;
      w[i] = p;
    }
  });
}

}  // namespace sculpt::optim

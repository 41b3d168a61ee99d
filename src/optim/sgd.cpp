// SGD: one fused pass per element (decay, momentum, Nesterov and the update together).
#include "optim/sgd.h"

#include "core/error.h"
#include "core/parallel.h"

namespace sculpt::optim {

Sgd::Sgd(SgdConfig cfg) : cfg_(cfg) {
  SCULPT_CHECK(!cfg_.nesterov || (cfg_.momentum > 0 && cfg_.dampening == 0), ConfigError,
               "Nesterov momentum needs momentum > 0 and dampening = 0", "optim.nesterov",
               "set optim.momentum (e.g. 0.9) or optim.nesterov = false");
}

void Sgd::init(const ParamStore& ps) {
  velocity_.assign(cfg_.momentum > 0 ? static_cast<size_t>(ps.arena_size()) : 0, 0.0f);
}

namespace {

// The update for one contiguous range; `first` selects PyTorch's v = g on the first step.
template <bool kMomentum, bool kNesterov>
void update_range(float* __restrict w, const float* __restrict g, float* __restrict v, int64_t n,
                  float lr, float wd, float mu, float damp, bool first) {
  const float keep = first ? 0.0f : mu;
  const float take = first ? 1.0f : 1.0f - damp;
#pragma omp parallel for simd schedule(static) if (n > kParallelThreshold)
  for (int64_t i = 0; i < n; ++i) {
    float d = g[i] + wd * w[i];
    if constexpr (kMomentum) {
      const float vi = keep * v[i] + take * d;
      v[i] = vi;
      d = kNesterov ? d + mu * vi : vi;
    }
    w[i] -= lr * d;
  }
}

}  // namespace

void Sgd::step(ParamStore& ps, double lr, int64_t step) {
  const bool first = step == 0;
  const float mu = static_cast<float>(cfg_.momentum);
  const float damp = static_cast<float>(cfg_.dampening);
  for (size_t i = 0; i < ps.count(); ++i) {
    const ParamEntry& e = ps.entry(i);
    const float wd = e.flags.decays ? static_cast<float>(cfg_.weight_decay) : 0.0f;
    float* w = ps.value(i);
    const float* g = ps.grad(i);
    float* v = velocity_.empty() ? nullptr : velocity_.data() + e.offset;
    const float rate = static_cast<float>(lr);
    if (!v)
      update_range<false, false>(w, g, v, e.size, rate, wd, mu, damp, first);
    else if (cfg_.nesterov)
      update_range<true, true>(w, g, v, e.size, rate, wd, mu, damp, first);
    else
      update_range<true, false>(w, g, v, e.size, rate, wd, mu, damp, first);
  }
}

std::vector<StateArray> Sgd::state() {
  if (velocity_.empty()) return {};
  return {{"momentum", &velocity_}};
}

}  // namespace sculpt::optim

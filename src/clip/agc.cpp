// Adaptive gradient clipping (see agc.h for the rule and the paper).
#include "clip/agc.h"

#include <cmath>

namespace sculpt::clip {

const std::vector<Field<AgcConfig>>& AgcConfig::fields() {
  static const std::vector<Field<AgcConfig>> f = {
      {"clipping", &AgcConfig::clipping, greater_than(0),
       "lambda: largest ratio ||g_i|| / max(||w_i||, eps) a unit keeps"},
      {"eps", &AgcConfig::eps, greater_than(0),
       "floor on a unit's weight norm, so zero-initialised units can still move"},
  };
  return f;
}

std::pair<int64_t, int64_t> agc_units(const Shape& shape) {
  const int64_t n = numel(shape);
  int64_t big = 0;
  for (int64_t d : shape) big += d > 1;
  if (big <= 1 || shape.empty() || shape[0] == 0) return {n > 0 ? 1 : 0, n};
  return {shape[0], n / shape[0]};
}

ClipReport AgcClipper::apply(ParamStore& ps) {
  units_.clear();
  for (const ParamEntry& e : ps.entries()) {
    const auto [count, size] = agc_units(e.shape);
    for (int64_t u = 0; u < count; ++u) units_.push_back({e.offset + u * size, size});
  }
  grad_sumsq_.resize(units_.size());
  factors_.resize(units_.size());
  float* g = ps.grads().data();
  const float* w = ps.values().data();
  const double lambda = cfg_.clipping, eps = cfg_.eps;
  const std::span<const Unit> units = units_;
  double* gsq = grad_sumsq_.data();
  float* fac = factors_.data();
#pragma omp parallel if (ps.arena_size() > kParallelThreshold)
  {
    const auto [lo, hi] =
        thread_share(units, ps.arena_size(), omp_get_thread_num(), omp_get_num_threads());
    for (size_t u = lo; u < hi; ++u) {
      const Unit& unit = units[u];
      const double gs = sum_squares<false>(g + unit.begin, unit.size).sumsq;
      const double ws = sum_squares<false>(w + unit.begin, unit.size).sumsq;
      const double limit = lambda * std::max(std::sqrt(ws), eps);
      const double gn = std::sqrt(gs);
      float f = 1.0f;
      if (gn > limit) f = static_cast<float>(limit / std::max(gn, 1e-6));
      if (f < 1.0f) scale_range(g + unit.begin, unit.size, f);
      gsq[u] = gs;
      fac[u] = f < 1.0f ? f : 1.0f;
    }
  }
  ClipReport r;
  double before = 0.0, after = 0.0;
  for (size_t u = 0; u < units_.size(); ++u) {
    before += grad_sumsq_[u];
    after += grad_sumsq_[u] * double(factors_[u]) * double(factors_[u]);
    if (factors_[u] < 1.0f) {
      ++r.clipped;
      r.scale = std::min(r.scale, double(factors_[u]));
    }
  }
  r.norm_before = std::sqrt(before);
  r.norm_after = std::sqrt(after);
  r.clipped_any = r.clipped > 0;
  return r;
}

}  // namespace sculpt::clip

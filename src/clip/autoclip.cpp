// AutoClip (see autoclip.h for the rule and the paper).
#include "clip/autoclip.h"

#include <cmath>

#include "clip/by_norm.h"

namespace sculpt::clip {

const std::vector<Field<AutoClipConfig>>& AutoClipConfig::fields() {
  static const auto f =
      percentile_fields<AutoClipConfig>("the global gradient norms", "8 bytes per step");
  return f;
}

ClipReport AutoClipper::apply(ParamStore& ps) {
  norms_.prepare(ps);
  float* g = ps.grads().data();
  norms_.measure(g, /*with_max=*/false);
  ClipReport r;
  r.norm_before = r.norm_after = std::sqrt(norms_.total().sumsq);
  if (!std::isfinite(r.norm_before)) return r;
  history_.record(r.norm_before);
  last_limit_ = history_.percentile(cfg_.percentile);
  const float f = norm_factor(r.norm_before, last_limit_, 1e-6);
  if (f < 1.0f) {
    norms_.scale_all(g, f);
    r.scale = f;
    r.norm_after = r.norm_before * f;
    r.clipped = 1;
    r.clipped_any = true;
  }
  return r;
}

std::vector<double> AutoClipper::state() const {
  return {history_.values().begin(), history_.values().end()};
}

void AutoClipper::set_state(std::vector<double> state) {
  for (size_t i = 0; i < state.size(); ++i) check_saved_norm(state[i], i, "autoclip");
  history_.clear();
  for (double v : state) history_.record(v);
}

}  // namespace sculpt::clip

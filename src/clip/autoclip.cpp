// AutoClip (see autoclip.h for the rule and the paper).
#include "clip/autoclip.h"

#include <cmath>

#include "clip/by_norm.h"
#include "core/error.h"

namespace sculpt::clip {

const std::vector<Field<AutoClipConfig>>& AutoClipConfig::fields() {
  static const std::vector<Field<AutoClipConfig>> f = {
      {"percentile", &AutoClipConfig::percentile, Range{.min = 0, .max = 100, .min_open = true},
       "p: the limit is the p-th percentile of the global gradient norms seen so far"},
      {"history", &AutoClipConfig::history, at_least(0),
       "norms remembered (the most recent); 0: all of them (8 bytes per step)"},
  };
  return f;
}

double percentile_of_sorted(const std::vector<double>& sorted, double p) {
  const double pos = p / 100.0 * static_cast<double>(sorted.size() - 1);
  const size_t lo = static_cast<size_t>(std::floor(pos));
  const size_t hi = std::min(lo + 1, sorted.size() - 1);
  const double t = pos - static_cast<double>(lo);
  return sorted[lo] + t * (sorted[hi] - sorted[lo]);
}

void AutoClipper::record(double norm) {
  order_.push_back(norm);
  sorted_.insert(std::upper_bound(sorted_.begin(), sorted_.end(), norm), norm);
  if (cfg_.history > 0 && static_cast<int64_t>(order_.size()) > cfg_.history) {
    sorted_.erase(std::lower_bound(sorted_.begin(), sorted_.end(), order_.front()));
    order_.pop_front();
  }
}

ClipReport AutoClipper::apply(ParamStore& ps) {
  norms_.prepare(ps);
  float* g = ps.grads().data();
  norms_.measure(g, /*with_max=*/false);
  ClipReport r;
  r.norm_before = r.norm_after = std::sqrt(norms_.total().sumsq);
  if (!std::isfinite(r.norm_before)) return r;
  record(r.norm_before);
  last_limit_ = percentile_of_sorted(sorted_, cfg_.percentile);
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

std::vector<double> AutoClipper::state() const { return {order_.begin(), order_.end()}; }

void AutoClipper::set_state(std::vector<double> state) {
  for (size_t i = 0; i < state.size(); ++i)
    if (!std::isfinite(state[i]) || state[i] < 0)
      throw NumericError("autoclip history value " + std::to_string(i) + " is " +
                             std::to_string(state[i]) + "; norms are finite and >= 0",
                         "clip", "the checkpoint is damaged; resume from the previous one");
  order_.clear();
  sorted_.clear();
  for (double v : state) record(v);
}

}  // namespace sculpt::clip

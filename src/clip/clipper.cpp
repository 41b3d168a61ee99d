// The parts of the Clipper interface every rule shares: the stateless default and `none`.
#include "clip/clipper.h"

#include <cmath>

#include "core/error.h"

namespace sculpt::clip {

void Clipper::set_state(std::vector<double> state) {
  if (!state.empty())
    throw NumericError("this clipper keeps no state, but the checkpoint holds " +
                           std::to_string(state.size()) + " values for it",
                       "clip", "resume with the clip.name the checkpoint was written with");
}

ClipReport NoClip::apply(ParamStore& ps) {
  norms_.prepare(ps);
  norms_.measure(ps.grads().data(), /*with_max=*/false);
  return apply_measured(ps, norms_);
}

ClipReport NoClip::apply_measured(ParamStore&, const ArenaNorms& measured) {
  const double norm = std::sqrt(measured.total().sumsq);
  return ClipReport{.norm_before = norm, .norm_after = norm};
}

}  // namespace sculpt::clip

// AutoClip: Seetharaman, Wichern, Pardo & Le Roux, "AutoClip: Adaptive Gradient Clipping for
// Source Separation Networks", MLSP 2020. Global-norm clipping whose limit is the p-th
// percentile of the global L2 norms seen so far, the current one included (as in the paper's
// code, which appends the norm, takes np.percentile of the history and calls
// torch.nn.utils.clip_grad_norm_ with it):
//   h <- h + [N];  limit = percentile_p(h)  (linear interpolation, numpy's default)
//   f = min(1, limit / (N + 1e-6));  g <- f * g
// Memory: one double per step with history = 0 (all norms: 8 MB per million steps), else the
// `history` most recent. state() is that history, oldest first, for checkpoints.
#pragma once

#include "clip/clipper.h"
#include "clip/norm_history.h"

namespace sculpt::clip {

struct AutoClipConfig {
  double percentile = 10.0;  // p in (0, 100]
  int64_t history = 0;       // norms kept (the most recent); 0: every norm since the start

  static const std::vector<Field<AutoClipConfig>>& fields();
};

class AutoClipper final : public Clipper {
 public:
  explicit AutoClipper(AutoClipConfig cfg) : cfg_(cfg), history_(cfg.history) {}
  // A non-finite norm (the step lets none through) is not recorded and clips nothing.
  ClipReport apply(ParamStore& ps) override;
  std::vector<double> state() const override;
  // Requires finite norms >= 0; keeps the `history` most recent of them.
  void set_state(std::vector<double> state) override;
  // The limit the last apply() used (0 before the first).
  double last_limit() const { return last_limit_; }

 private:
  AutoClipConfig cfg_;
  ArenaNorms norms_;
  NormHistory history_;
  double last_limit_ = 0.0;
};

}  // namespace sculpt::clip

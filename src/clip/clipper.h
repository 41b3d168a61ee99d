// Clipper: rescales or clips the gradient arena after accumulation, before the optimizer, and
// reports what it did. The rules (none, value, norm, global-norm, agc, autoclip, ...) are rows of
// the registry in clip/registry.cpp; `sculpt list clippers` and docs/clipping.md print them.
//
// Masked (pruned) entries are excluded without any special case: the training step zeroes
// their gradients before the clipper runs, and a zero contributes nothing to any norm and is
// left zero by every rule. Requires finite gradients (the step's non-finite check comes first).
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "clip/arena_norms.h"
#include "core/fields.h"
#include "core/options.h"
#include "core/param_store.h"
#include "core/registry.h"

namespace sculpt {
struct ClipConfig;
}

namespace sculpt::clip {

// The norm of the norm rules: Euclidean ("2") or the largest magnitude ("inf"), as torch's
// norm_type.
enum class NormType { kL2, kInf };
inline constexpr Choice<NormType> kNormTypes[] = {{NormType::kL2, "2"}, {NormType::kInf, "inf"}};
constexpr std::span<const Choice<NormType>> choices_of(NormType) { return kNormTypes; }

struct ClipReport {
  double norm_before = 0.0;  // global L2 norm of every gradient before clipping (double sums)
  double norm_after = 0.0;   // the same after (from the sums and the factors applied)
  // global-norm and autoclip: the factor applied to every gradient; norm, quantile-per-layer and
  // agc: the smallest factor applied to a tensor or unit; value: norm_after / norm_before; 1
  // when untouched.
  double scale = 1.0;
  // value: elements changed; norm, quantile-per-layer: tensors; agc: units (rows); global-norm,
  // autoclip: 1 or 0.
  int64_t clipped = 0;
  bool clipped_any = false;
};

class Clipper {
 public:
  virtual ~Clipper() = default;
  // Requires: ps finalized, finite gradients. Ensures: afterwards the rule's own norm is at most
  // its limit (within float rounding); when it already was, the gradients are unchanged bit
  // for bit. The result does not depend on the thread count.
  virtual ClipReport apply(ParamStore& ps) = 0;
  // The same, given `measured`: the sums of ps's gradients as they are now
  // (ArenaNorms::mask_and_measure, prepared on ps), so a rule that needs no other pass before
  // it acts can skip its own. By default the rule measures again.
  virtual ClipReport apply_measured(ParamStore& ps, const ArenaNorms& /*measured*/) {
    return apply(ps);
  }
  // What the rule has learned from past steps (autoclip, quantile-per-layer: norms), for
  // checkpoints; empty for stateless rules. set_state(state()) restores the same behaviour.
  virtual std::vector<double> state() const { return {}; }
  // Throws NumericError for a state this rule cannot hold (wrong length, non-finite values).
  virtual void set_state(std::vector<double> state);
};

// name = "none": gradients untouched; the report still carries the global norm (telemetry).
class NoClip final : public Clipper {
 public:
  ClipReport apply(ParamStore& ps) override;
  ClipReport apply_measured(ParamStore& ps, const ArenaNorms& measured) override;

 private:
  ArenaNorms norms_;
};

// ---- Registry ----

struct ClipperInfo {
  std::string name;
  std::string title;    // "Global norm"
  std::string formula;  // plain text, one formula per line
  std::string paper;    // citation ("" when the rule has none)
  std::string torch;    // the PyTorch call it matches ("" when PyTorch has no such rule)
  std::string example;  // a recipe [clip] table
  std::vector<FieldRow> fields;
};

const std::vector<ClipperInfo>& clipper_infos();
std::vector<std::string> clipper_names();
// What the recipe reader asks of the clippers (core/registry.h): their names, a clipper's keys
// in order, whether it has a key, any clipper's spec for a key (to read `--set clip.key=text`
// before the name is final).
const FamilyIndex& clipper_index();

// Checks cfg.options against the named clipper and returns every option with its value
// (defaults filled in). Throws ConfigError naming the field for an unknown name or key
// (with a "did you mean") and for values out of range (max_norm <= 0, percentile > 100, ...).
Options resolve_options(const ClipConfig& cfg);
// Builds the clipper cfg names. Throws like resolve_options.
std::unique_ptr<Clipper> make_clipper(const ClipConfig& cfg);

}  // namespace sculpt::clip

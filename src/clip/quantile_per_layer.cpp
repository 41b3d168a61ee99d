// quantile-per-layer (see quantile_per_layer.h): one measuring pass with sums per tensor, each
// tensor's history and limit, then one scaling pass over the tensors whose factor is below 1.
#include "clip/quantile_per_layer.h"

#include <fmt/format.h>

#include <cmath>

#include "clip/by_norm.h"
#include "core/error.h"

namespace sculpt::clip {

namespace {

constexpr const char* kRule = "quantile-per-layer";

[[noreturn]] void damaged(const std::string& what) {
  throw NumericError(fmt::format("{} state: {}", kRule, what), "clip",
                     "the checkpoint is damaged; resume from the previous one");
}

// A count of the saved state: a whole number in [lo, hi], else NumericError naming `what`.
size_t saved_count(double v, double lo, double hi, const std::string& what) {
  if (!(v >= lo && v <= hi) || v != std::floor(v))
    damaged(fmt::format("{} is {}, not a whole number from {} to {}", what, v, lo, hi));
  return static_cast<size_t>(v);
}

}  // namespace

const std::vector<Field<QuantilePerLayerConfig>>& QuantilePerLayerConfig::fields() {
  static const auto f = percentile_fields<QuantilePerLayerConfig>(
      "each tensor's own gradient norms", "8 bytes per step and tensor");
  return f;
}

ClipReport QuantilePerLayerClipper::apply(ParamStore& ps) {
  norms_.prepare(ps);
  norms_.measure(ps.grads().data(), /*with_max=*/false);
  norms_.per_tensor(ps.count(), tensors_);
  if (histories_.empty()) histories_.assign(ps.count(), NormHistory(cfg_.history));
  SCULPT_CHECK(histories_.size() == ps.count(), ShapeError,
               fmt::format("{} holds the norm histories of {} tensors, but the model has {}", kRule,
                           histories_.size(), ps.count()),
               "clip", "resume with the model the checkpoint was written with");
  factors_.assign(ps.count(), 1.0f);
  limits_.assign(ps.count(), 0.0);
  for (size_t t = 0; t < ps.count(); ++t) {
    const double norm = std::sqrt(tensors_[t].sumsq);
    if (!std::isfinite(norm)) continue;  // never for finite float gradients; not recorded
    histories_[t].record(norm);
    limits_[t] = histories_[t].percentile(cfg_.percentile);
    if (norm > 0) factors_[t] = norm_factor(norm, limits_[t], 1e-6);
  }
  return scale_per_tensor(norms_, ps.grads().data(), tensors_, factors_);
}

std::vector<double> QuantilePerLayerClipper::state() const {
  if (histories_.empty()) return {};
  std::vector<double> out = {static_cast<double>(histories_.size())};
  for (const NormHistory& h : histories_) out.push_back(static_cast<double>(h.size()));
  for (const NormHistory& h : histories_)
    out.insert(out.end(), h.values().begin(), h.values().end());
  return out;
}

void QuantilePerLayerClipper::set_state(std::vector<double> state) {
  std::vector<NormHistory> restored;
  if (!state.empty()) {
    const double size = static_cast<double>(state.size());
    const size_t tensors = saved_count(state[0], 1, size - 1, "the number of tensors");
    size_t next = 1 + tensors;
    for (size_t t = 0; t < tensors; ++t) {
      const size_t n = saved_count(state[1 + t], 0, size - double(next),
                                   fmt::format("the number of norms of tensor {}", t));
      restored.emplace_back(cfg_.history);
      for (size_t i = next; i < next + n; ++i) {
        check_saved_norm(state[i], i, kRule);
        restored.back().record(state[i]);
      }
      next += n;
    }
    if (next != state.size())
      damaged(fmt::format("{} values after the histories of its {} tensors", state.size() - next,
                          tensors));
  }
  histories_ = std::move(restored);
}

}  // namespace sculpt::clip

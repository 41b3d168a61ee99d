// The clipper registry: one config struct and one row per rule. Each row carries the formula,
// the paper, the PyTorch call it matches and an example; `sculpt list clippers` and
// docs/clipping.md print them.
// GCC 12 reports array-bounds/maybe-uninitialized false positives when it inlines the generic
// field visitors (core/fields.h) for small config structs (NoneConfig is empty), as in
// sched/registry.cpp; so this comes before the includes.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Warray-bounds"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif

#include "core/registry.h"

#include <fmt/format.h>

#include <functional>

#include "clip/agc.h"
#include "clip/autoclip.h"
#include "clip/by_global_norm.h"
#include "clip/by_norm.h"
#include "clip/by_value.h"
#include "clip/clipper.h"
#include "clip/config.h"
#include "clip/quantile_per_layer.h"
#include "core/error.h"

namespace sculpt::clip {

namespace {

struct NoneConfig {
  static const std::vector<Field<NoneConfig>>& fields() {
    static const std::vector<Field<NoneConfig>> f;
    return f;
  }
};

using Row = OptionRow<ClipperInfo, Clipper>;

template <class C, class Make>
Row row(const char* name, const char* title, const char* formula, const char* paper,
        const char* torch, const char* example, Make make) {
  return option_row<C, Row>("clip", {name, title, formula, paper, torch, example, /*fields=*/{}},
                            make);
}

const Registry<Row>& registry() {
  static const Registry<Row> r(
      "clip.name",
      {
          row<NoneConfig>(
              "none", "No clipping", "g unchanged (the report still has the global norm)", "", "",
              "[clip]\nname = \"none\"\n", [](NoneConfig) { return std::make_unique<NoClip>(); }),
          row<ValueConfig>("value", "Clip by value",
                           "g <- clamp(g, -max_value, max_value)   (every element)", "",
                           "torch.nn.utils.clip_grad_value_(params, max_value)",
                           "[clip]\nname = \"value\"\nmax_value = 0.5\n",
                           [](ValueConfig c) { return std::make_unique<ValueClipper>(c); }),
          row<NormConfig>(
              "norm", "Clip each tensor's norm",
              "for every tensor t: f_t = max_norm / (||g_t|| + eps);  g_t <- f_t * g_t when f_t < "
              "1\n"
              "||.||: L2 (norm_type = \"2\") or max |g| (\"inf\")",
              "", "torch.nn.utils.clip_grad_norm_(p, max_norm, norm_type) for each parameter p",
              "[clip]\nname = \"norm\"\nmax_norm = 1.0\n",
              [](NormConfig c) { return std::make_unique<NormClipper>(std::move(c)); }),
          row<GlobalNormConfig>(
              "global-norm", "Clip the global norm",
              "N = ||(g_1, ..., g_n)|| over every tensor (L2 summed in double, or max |g|)\n"
              "f = min(1, max_norm / (N + eps));  g <- f * g",
              "Pascanu, Mikolov & Bengio, \"On the difficulty of training recurrent neural "
              "networks\", ICML 2013",
              "torch.nn.utils.clip_grad_norm_(model.parameters(), max_norm, norm_type)",
              "[clip]\nname = \"global-norm\"\nmax_norm = 1.0\n",
              [](GlobalNormConfig c) { return std::make_unique<GlobalNormClipper>(std::move(c)); }),
          row<AgcConfig>("agc", "Adaptive gradient clipping (unit-wise)",
                         "for every unit i (a row of a weight; a bias is one unit):\n"
                         "W_i = max(||w_i||, eps);  g_i <- g_i * clipping * W_i / ||g_i||  when "
                         "||g_i|| / W_i > "
                         "clipping",
                         "Brock, De, Smith & Simonyan, \"High-Performance Large-Scale Image "
                         "Recognition Without "
                         "Normalization\", ICML 2021",
                         "", "[clip]\nname = \"agc\"\nclipping = 0.01\n",
                         [](AgcConfig c) { return std::make_unique<AgcClipper>(c); }),
          row<AutoClipConfig>(
              "autoclip", "AutoClip (percentile of past norms)",
              "N = global L2 norm; history h <- h + [N] (the last `history` norms, or all)\n"
              "limit = percentile(h, percentile);  f = min(1, limit / (N + 1e-6));  g <- f * g",
              "Seetharaman, Wichern, Pardo & Le Roux, \"AutoClip: Adaptive Gradient Clipping for "
              "Source Separation Networks\", MLSP 2020",
              "", "[clip]\nname = \"autoclip\"\npercentile = 10.0\n",
              [](AutoClipConfig c) { return std::make_unique<AutoClipper>(c); }),
          row<QuantilePerLayerConfig>(
              "quantile-per-layer", "AutoClip per tensor (percentile of its own past norms)",
              "for every tensor t: N_t = ||g_t|| (L2); h_t <- h_t + [N_t] (its last `history` "
              "norms, or all)\n"
              "limit_t = percentile(h_t, percentile);  f_t = min(1, limit_t / (N_t + 1e-6));  "
              "g_t <- f_t * g_t",
              "AutoClip's rule (Seetharaman, Wichern, Pardo & Le Roux, \"AutoClip: Adaptive "
              "Gradient Clipping for Source Separation Networks\", MLSP 2020) on each tensor",
              "", "[clip]\nname = \"quantile-per-layer\"\npercentile = 10.0\n",
              [](QuantilePerLayerConfig c) {
                return std::make_unique<QuantilePerLayerClipper>(c);
              }),
      });
  return r;
}

}  // namespace

const std::vector<ClipperInfo>& clipper_infos() { return registry().infos(); }

std::vector<std::string> clipper_names() { return registry().names(); }

const FamilyIndex& clipper_index() {
  static const FamilyIndex index = registry().index();
  return index;
}

namespace {

std::string where_of(const ClipConfig& cfg) {
  return cfg.options.empty() ? "clip" : cfg.options.items()[0].where;
}

}  // namespace

Options resolve_options(const ClipConfig& cfg) {
  return registry().find(cfg.name, where_of(cfg)).fields.resolve(cfg.options, "clip");
}

std::unique_ptr<Clipper> make_clipper(const ClipConfig& cfg) {
  return registry().find(cfg.name, where_of(cfg)).make(cfg.options);
}

}  // namespace sculpt::clip

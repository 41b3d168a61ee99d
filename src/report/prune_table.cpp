// Plain-text table of a pruned model, one row per prunable layer and a total, then a line per
// layer whose units structured pruning leaves alone and why.
#include "report/prune_table.h"

#include <fmt/format.h>

#include <algorithm>

namespace sculpt::report {

std::string format_prune_table(const std::vector<prune::PrunableLayer>& layers,
                               const std::vector<prune::LayerStats>& stats) {
  size_t w = 10;  // the layer column: at least 10 wide, wider for "lstm1.weight_ih"
  for (const prune::LayerStats& s : stats) w = std::max(w, s.name.size());
  std::string out = fmt::format("{:<{}} {:<7} {:>9} {:>9} {:>9} {:>11} {:>11}\n", "layer", w,
                                "kind", "params", "kept", "sparsity", "live units", "FLOPs kept");
  auto pct = [](int64_t part, int64_t whole) {
    return whole ? fmt::format("{:.1f}%", 100.0 * double(part) / double(whole)) : "-";
  };
  prune::LayerStats total;
  for (size_t i = 0; i < stats.size() && i < layers.size(); ++i) {
    const prune::LayerStats& s = stats[i];
    out += fmt::format("{:<{}} {:<7} {:>9} {:>9} {:>9} {:>11} {:>11}\n", s.name, w, layers[i].kind,
                       s.params, s.kept, pct(s.params - s.kept, s.params),
                       fmt::format("{}/{}", s.units - s.dead_units, s.units),
                       pct(s.flops_kept, s.flops));
    total.params += s.params;
    total.kept += s.kept;
    total.flops += s.flops;
    total.flops_kept += s.flops_kept;
  }
  out += fmt::format("{:<{}} {:<7} {:>9} {:>9} {:>9} {:>11} {:>11}\n", "total", w, "", total.params,
                     total.kept, pct(total.params - total.kept, total.params), "",
                     pct(total.flops_kept, total.flops));
  for (size_t i = 0; i < layers.size(); ++i)  // a recurrent layer's two parts share one note
    if (!layers[i].note.empty() && (i == 0 || layers[i].name != layers[i - 1].name))
      out += fmt::format("note: {}: {}\n", layers[i].name, layers[i].note);
  return out;
}

}  // namespace sculpt::report

// Finds the layers with prunable units (by their traits) and which layer consumes each one's
// units.
#include "prune/structure.h"

#include <fmt/format.h>

#include "core/error.h"

namespace sculpt::prune {

std::vector<PrunableLayer> prunable_layers(const nn::Model& model, const ParamStore& ps) {
  std::vector<PrunableLayer> out;
  bool linked = false;  // every layer since the last parametric one kept its units in order
  for (size_t i = 0; i < model.size(); ++i) {
    const nn::Layer& layer = model.layer(i);
    const nn::LayerTraits t = layer.traits();
    if (linked && !model.feeds_next_only(i - 1)) {
      linked = false;
      out.back().note = fmt::format(
          "units kept: the output before layer '{}' is joined with another or read by several "
          "layers, and removing a unit is not followed through a graph's branches yet",
          layer.name());
    }
    if (!t.weight) {
      if (linked && !t.keeps_channels) {
        linked = false;
        out.back().note = fmt::format(
            "units kept: layer '{}' ({}) after it does not keep channels, so removing a unit "
            "cannot be followed to the layer that reads it",
            layer.name(), layer.kind());
      }
      continue;
    }
    PrunableLayer p;
    p.name = layer.name();
    p.kind = std::string(layer.kind());
    p.layer_index = i;
    p.weight = *t.weight;
    p.bias = t.bias;
    p.units = t.units;
    const ParamEntry& w = ps.entry(p.weight);
    SCULPT_CHECK(p.units > 0 && w.size % p.units == 0, ShapeError,
                 fmt::format("layer '{}': weight {} has {} entries, not a multiple of {} units",
                             p.name, w.name, w.size, p.units));
    p.fan_in = w.size / p.units;
    p.out_spatial = numel(layer.out_shape()) / p.units;
    if (linked) {
      PrunableLayer& prev = out.back();
      SCULPT_CHECK(p.fan_in % prev.units == 0, ShapeError,
                   fmt::format("layer '{}' reads {} inputs per unit, not a multiple of the {} "
                               "units of '{}'",
                               p.name, p.fan_in, prev.units, prev.name));
      prev.next = out.size();
      prev.next_spatial = p.fan_in / prev.units;
    }
    out.push_back(std::move(p));
    linked = true;
  }
  return out;
}

std::string layer_names(const std::vector<PrunableLayer>& layers) {
  std::string s;
  for (const auto& l : layers) s += (s.empty() ? "" : ", ") + l.name;
  return s;
}

}  // namespace sculpt::prune

// Finds the Linear/Conv2d layers of a model and which layer consumes each one's units.
#include "prune/structure.h"

#include <fmt/format.h>

#include "core/error.h"
#include "nn/layers/conv2d.h"
#include "nn/layers/linear.h"

namespace sculpt::prune {

namespace {

// Layers that keep the channel axis: what may sit between two parametric layers.
bool keeps_channels(std::string_view kind) {
  return kind == "relu" || kind == "tanh" || kind == "sigmoid" || kind == "maxpool2d" ||
         kind == "avgpool2d" || kind == "flatten" || kind == "dropout";
}

}  // namespace

std::vector<PrunableLayer> prunable_layers(const nn::Model& model, const ParamStore& ps) {
  std::vector<PrunableLayer> out;
  for (size_t i = 0; i < model.size(); ++i) {
    const nn::Layer& layer = model.layer(i);
    PrunableLayer p;
    p.name = layer.name();
    p.kind = std::string(layer.kind());
    p.layer_index = i;
    if (const auto* lin = dynamic_cast<const nn::Linear*>(&layer)) {
      p.weight = lin->weight_index();
      p.bias = lin->bias_index();
      p.units = lin->out_features();
    } else if (const auto* conv = dynamic_cast<const nn::Conv2d*>(&layer)) {
      p.weight = conv->weight_index();
      p.bias = conv->bias_index();
      p.units = conv->out_channels();
    } else {
      SCULPT_CHECK(out.empty() || keeps_channels(layer.kind()), ShapeError,
                   fmt::format("layer '{}' ({}) between '{}' and the next parametric layer does "
                               "not keep channels; structured pruning cannot follow it",
                               layer.name(), layer.kind(), out.back().name));
      continue;
    }
    const ParamEntry& w = ps.entry(p.weight);
    SCULPT_CHECK(p.units > 0 && w.size % p.units == 0, ShapeError,
                 fmt::format("layer '{}': weight {} has {} entries, not a multiple of {} units",
                             p.name, w.name, w.size, p.units));
    p.fan_in = w.size / p.units;
    p.out_spatial = numel(layer.out_shape()) / p.units;
    if (!out.empty()) {
      PrunableLayer& prev = out.back();
      SCULPT_CHECK(p.fan_in % prev.units == 0, ShapeError,
                   fmt::format("layer '{}' reads {} inputs per unit, not a multiple of the {} "
                               "units of '{}'",
                               p.name, p.fan_in, prev.units, prev.name));
      prev.next = out.size();
      prev.next_spatial = p.fan_in / prev.units;
    }
    out.push_back(std::move(p));
  }
  return out;
}

std::string layer_names(const std::vector<PrunableLayer>& layers) {
  std::string s;
  for (const auto& l : layers) s += (s.empty() ? "" : ", ") + l.name;
  return s;
}

}  // namespace sculpt::prune

// The prunable structure of a sequential model: its layers with prunable units in order (those
// whose nn::LayerTraits name a weight: Linear, Conv2d), each with its units (neurons = rows of a
// Linear weight [out, in], channels = filters of a Conv2d weight [out, in, kh, kw]) and the
// next parametric layer that reads those units.
//
// Every weight is viewed as a matrix [units, fan_in]. Unit u of layer L feeds the columns
// [u * next_spatial, (u + 1) * next_spatial) of the next layer's weight matrix: 1 column for
// Linear -> Linear, kh * kw for Conv -> Conv, H * W for Conv -> Flatten -> Linear. The layers in
// between must keep channels (LayerTraits::keeps_channels: activations, pooling, flatten,
// dropout). After any other layer the chain is cut: the layer before it gets no `next`, so its
// units are never removed (weight pruning still applies), and a `note` says why.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/param_store.h"
#include "nn/model.h"

namespace sculpt::prune {

struct PrunableLayer {
  std::string name;            // layer name: "fc1", "conv2"
  std::string kind;            // "linear" | "conv2d"
  size_t layer_index = 0;      // position in the model
  size_t weight = 0;           // ParamStore entry of the weight
  std::optional<size_t> bias;  // ParamStore entry of the bias
  int64_t units = 0;           // rows (Linear) or output channels (Conv2d)
  int64_t fan_in = 0;          // weight entries per unit (in, or in_c * kh * kw)
  int64_t out_spatial = 1;     // output positions per unit and sample (1 for Linear, H * W)
  // The next parametric layer (index into the vector) that reads this layer's units; none for
  // the last one (its units are the model's outputs and are never removed).
  std::optional<size_t> next;
  int64_t next_spatial = 1;  // columns of next's weight matrix per unit of this layer
  std::string note;          // why it has no `next` though a layer follows, if so

  // Multiply-adds per sample of the dense layer: units * fan_in * out_spatial.
  int64_t flops() const { return units * fan_in * out_spatial; }
};

// The layers of `model` with prunable units, in forward order. Requires: model declared into ps.
std::vector<PrunableLayer> prunable_layers(const nn::Model& model, const ParamStore& ps);

// The names of prunable layers, for "unknown layer" messages: "fc1, fc2, fc3".
std::string layer_names(const std::vector<PrunableLayer>& layers);

}  // namespace sculpt::prune

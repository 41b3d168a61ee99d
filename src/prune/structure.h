// The prunable structure of a model (a chain or a graph): its layers with prunable units (those
// whose nn::LayerTraits name a weight: Linear, Conv2d), and the channel groups that say which
// units can be removed together, as Torch-Pruning's dependency graph does.
//
// Every weight is viewed as a matrix [units, fan_in] (neurons = rows of a Linear weight
// [out, in], channels = filters of a Conv2d weight [out, in, kh, kw]), or, for a recurrent layer,
// [gates * units, fan_in] with unit u owning rows u + k * units: an LSTM (4 gates) or GRU (3) is
// two such entries, weight_ih and weight_hh, producers of one group, and weight_hh also reads
// the group (column u). On sequences [steps, features] the units are the last axis. A unit's
// output is
// followed forward through the layers that keep channels (activations, pooling, flatten,
// dropout, BatchNorm) to the layers that read it:
//   - a layer with a weight reads channel c through its weight columns
//     [c * spatial, (c + 1) * spatial): 1 for Linear -> Linear, kh * kw for Conv -> Conv, H * W
//     for Conv -> Flatten -> Linear; after a concat, c counts from the input's first channel;
//   - BatchNorm's scale, shift and running statistics have one entry per channel, which goes
//     with it;
//   - `add` ties its inputs' channels: the units of every layer feeding it (through layers that
//     keep channels) form one group, ranked and removed together.
// A group's channels cannot be removed when they reach the model's output, or a layer that
// mixes channels (layernorm, a user's layer without traits): then `removable` is false and, for
// the latter, `note` says why (weight pruning still applies).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/param_store.h"
#include "nn/model.h"

namespace sculpt::prune {

struct PrunableLayer {
  std::string name;            // layer name: "fc1", "conv2", "lstm1"
  std::string kind;            // "linear" | "conv2d" | "lstm" | "gru"
  std::string part;            // a recurrent layer's "weight_ih" or "weight_hh"; else empty
  size_t layer_index = 0;      // position in the model
  size_t weight = 0;           // ParamStore entry of the weight
  std::optional<size_t> bias;  // ParamStore entry of the bias
  int64_t units = 0;           // rows (Linear), output channels (Conv2d), hidden units
  int64_t gates = 1;           // rows per unit (4 for LSTM, 3 for GRU)
  int64_t fan_in = 0;          // weight entries per row (in, or in_c * kh * kw)
  int64_t out_spatial = 1;     // output positions per unit and sample (1 for Linear, H * W)
  bool sequence = false;       // its output is [steps, units]
  std::string units_arg;       // the spec argument of its unit count ("out", "hidden")
  size_t group = 0;            // its ChannelGroup
  std::string note;            // its group's note: why its units are kept, if so

  int64_t rows() const { return units * gates; }
  // Where row k of unit u starts in the weight, in entries.
  int64_t row_start(int64_t u, int64_t k) const { return (k * units + u) * fan_in; }
  // Multiply-adds per sample of the dense layer: rows * fan_in * out_spatial.
  int64_t flops() const { return rows() * fan_in * out_spatial; }
  // "fc1", or "lstm1.weight_hh" for a part.
  std::string label() const { return part.empty() ? name : name + "." + part; }
};

// A layer with a weight reading a group's channels: channel c is its weight columns
// [first + c * spatial, first + (c + 1) * spatial) of every row.
struct ChannelReader {
  size_t layer = 0;  // index into Structure::layers
  int64_t first = 0, spatial = 1;
};

// Per-channel tensors of a layer that the group's channels pass through (BatchNorm): channel c
// is their entries [first + c * spatial, first + (c + 1) * spatial) (spatial > 1 when a
// BatchNorm1d reads a flattened map).
struct ChannelFollower {
  size_t layer_index = 0;      // in the model
  std::vector<size_t> params;  // ParamStore entries
  int64_t first = 0, spatial = 1;
};

struct ChannelGroup {
  int64_t units = 0;
  std::vector<size_t> producers = {};  // indices into Structure::layers, each with `units` units
  std::vector<ChannelReader> readers = {};
  std::vector<ChannelFollower> followers = {};
  bool removable = true;
  std::string note = {};  // why not removable, unless it is simply the model's output
  // One producer, one reader, no followers, and every layer from the producer to the reader
  // feeds the next alone: the path surgery can replay to fold a dead unit's constant output
  // into the reader's bias.
  bool chain = false;
};

struct Structure {
  std::vector<PrunableLayer> layers;  // in forward order
  std::vector<ChannelGroup> groups;   // every layer in exactly one group's producers
};

// The structure of `model`. Requires: model declared into ps.
Structure prunable_structure(const nn::Model& model, const ParamStore& ps);

// The names of prunable layers, each once, for "unknown layer" messages: "fc1, fc2, fc3".
std::string layer_names(const std::vector<PrunableLayer>& layers);

}  // namespace sculpt::prune

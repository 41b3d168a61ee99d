// Finds the layers with prunable units (by their traits) and their channel groups: one walk in
// forward order that tracks, for every layer's output, which group each run of its first axis
// comes from (the last axis of a sequence [steps, features]); `add` unites the groups it joins
// (union-find), and the groups are gathered at the end.
#include "prune/structure.h"

#include <fmt/format.h>

#include "core/error.h"

namespace sculpt::prune {

namespace {

constexpr size_t kNoGroup = static_cast<size_t>(-1);

// A run of a tensor's first axis: `channels` channels of one group (kNoGroup: made by no
// prunable layer, e.g. the model input), each spanning `per` consecutive entries of the axis
// (1 for [C, H, W]; H * W once flattened).
struct Run {
  size_t group = kNoGroup;
  int64_t channels = 0, per = 1;
  bool operator==(const Run&) const = default;
};
using Runs = std::vector<Run>;

int64_t first_axis(const Shape& s) { return s.empty() ? 1 : s[0]; }

// The extent of the unit axis: the first, or a sequence's last.
int64_t unit_axis(const Shape& s, bool sequence) {
  return sequence && !s.empty() ? s.back() : first_axis(s);
}

class Walk {
 public:
  Walk(const nn::Model& model, const ParamStore& ps) : model_(model), ps_(ps) {}

  Structure run() {
    const Runs input = {{kNoGroup, first_axis(model_.input_shape()), 1}};
    outs_.resize(model_.size());
    seq_.resize(model_.size());
    for (size_t i = 0; i < model_.size(); ++i) {
      std::vector<const Runs*> ins;
      std::vector<Shape> shapes;
      for (const int k : model_.inputs_of(i)) {
        ins.push_back(k < 0 ? &input : &outs_[size_t(k)]);
        shapes.push_back(k < 0 ? model_.input_shape() : model_.layer(size_t(k)).out_shape());
      }
      const int first = model_.inputs_of(i).front();
      outs_[i] = visit(i, ins, shapes, first >= 0 && seq_[size_t(first)]);
    }
    for (const Run& r : outs_.back())  // the model's outputs are never removed
      if (r.group != kNoGroup) groups_[r.group].removable = false;
    return gather();
  }

 private:
  // Layer i's output runs; `seq`: its (first) input is a sequence.
  Runs visit(size_t i, const std::vector<const Runs*>& ins, const std::vector<Shape>& shapes,
             bool seq) {
    const nn::Layer& layer = model_.layer(i);
    const nn::LayerTraits t = layer.traits();
    seq_[i] = t.sequence || (seq && t.keeps_channels);
    if (t.weight) return produce(i, layer, t, *ins[0], shapes[0], seq);
    if (t.stacks_channels && !seq) {
      Runs out;
      for (const Runs* in : ins) out.insert(out.end(), in->begin(), in->end());
      return out;
    }
    const int64_t in_first = unit_axis(shapes[0], seq);
    const int64_t out_first = unit_axis(layer.out_shape(), seq_[i]);
    // A sequence's units stay the last axis only while the shape stays.
    if (!t.keeps_channels || out_first % in_first != 0 || (seq && layer.out_shape() != shapes[0])) {
      seq_[i] = t.sequence;
      for (const Runs* in : ins)
        freeze(*in, fmt::format("units kept: layer '{}' ({}) after it does not keep channels, "
                                "so removing a unit cannot be followed to the layer that reads it",
                                layer.name(), layer.kind()));
      return {{kNoGroup, unit_axis(layer.out_shape(), seq_[i]), 1}};
    }
    for (size_t k = 1; k < ins.size(); ++k) tie(layer, *ins[0], *ins[k]);
    Runs out = *ins[0];
    for (Run& r : out) r.per *= out_first / in_first;  // flatten: a channel spans H * W entries
    if (!t.channel_params.empty()) {
      int64_t at = 0;
      for (const Run& r : out) {
        if (r.group != kNoGroup)
          groups_[r.group].followers.push_back({i, t.channel_params, at, r.per});
        at += r.channels * r.per;
      }
    }
    return out;
  }

  // Weight entry `weight` of layer i as a PrunableLayer.
  PrunableLayer part(size_t i, const nn::Layer& layer, const nn::LayerTraits& t, size_t weight,
                     std::optional<size_t> bias) const {
    PrunableLayer p;
    p.name = layer.name();
    p.kind = std::string(layer.kind());
    p.layer_index = i;
    p.weight = weight;
    p.bias = bias;
    p.units = t.units;
    p.gates = t.gates;
    p.sequence = t.sequence;
    p.units_arg = std::string(t.units_arg);
    const ParamEntry& w = ps_.entry(weight);
    SCULPT_CHECK(p.rows() > 0 && w.size % p.rows() == 0, ShapeError,
                 fmt::format("layer '{}': weight {} has {} entries, not a multiple of {} rows",
                             p.name, w.name, w.size, p.rows()));
    p.fan_in = w.size / p.rows();
    p.out_spatial = numel(layer.out_shape()) / p.units;
    if (t.recurrent_weight) p.part = w.name.substr(w.name.rfind('.') + 1);
    return p;
  }

  // A layer with a weight: a new group of its units, and a reader of every group before it. A
  // recurrent layer's second weight is a second producer of the group, and reads it.
  Runs produce(size_t i, const nn::Layer& layer, const nn::LayerTraits& t, const Runs& in,
               const Shape& in_shape, bool seq) {
    PrunableLayer p = part(i, layer, t, *t.weight, t.bias);
    const int64_t in_first = unit_axis(in_shape, seq);
    const size_t me = layers_.size();
    int64_t at = 0;
    for (const Run& r : in) {
      if (r.group != kNoGroup) {
        if (p.fan_in % in_first == 0) {
          const int64_t cols = p.fan_in / in_first;  // weight columns per first-axis entry
          groups_[r.group].readers.push_back({me, at * cols, r.per * cols});
        } else {
          freeze({r}, fmt::format("units kept: layer '{}' reads {} inputs per unit, not a "
                                  "multiple of its input's {} channels",
                                  p.name, p.fan_in, in_first));
        }
      }
      at += r.channels * r.per;
    }
    p.group = groups_.size();
    groups_.push_back({.units = p.units, .producers = {me}});
    parent_.push_back(p.group);
    layers_.push_back(std::move(p));
    if (t.recurrent_weight) {
      PrunableLayer hh = part(i, layer, t, *t.recurrent_weight, t.recurrent_bias);
      hh.group = layers_.back().group;
      groups_[hh.group].producers.push_back(me + 1);
      groups_[hh.group].readers.push_back({me + 1, 0, 1});
      layers_.push_back(std::move(hh));
    }
    return {{layers_[me].group, layers_[me].units, 1}};
  }

  // `add` makes the channels of its inputs one: their groups are united, run by run.
  void tie(const nn::Layer& layer, const Runs& a, const Runs& b) {
    const bool aligned = a.size() == b.size() &&
                         std::equal(a.begin(), a.end(), b.begin(), [](const Run& x, const Run& y) {
                           return x.channels == y.channels && x.per == y.per;
                         });
    if (!aligned) {
      const std::string note = fmt::format(
          "units kept: layer '{}' adds inputs whose channels come from different layers in "
          "different places",
          layer.name());
      freeze(a, note);
      freeze(b, note);
      return;
    }
    for (size_t j = 0; j < a.size(); ++j) {
      const size_t x = a[j].group, y = b[j].group;
      if (x != kNoGroup && y != kNoGroup) {
        parent_[find(x)] = find(y);
      } else if (x != y) {
        freeze({x == kNoGroup ? b[j] : a[j]},
               fmt::format("units kept: layer '{}' adds them to channels no prunable layer makes "
                           "(the model input)",
                           layer.name()));
      }
    }
  }

  void freeze(const Runs& runs, const std::string& note) {
    for (const Run& r : runs) {
      if (r.group == kNoGroup) continue;
      ChannelGroup& g = groups_[r.group];
      g.removable = false;
      if (g.note.empty()) g.note = note;
    }
  }

  size_t find(size_t g) {
    while (parent_[g] != g) g = parent_[g] = parent_[parent_[g]];
    return g;
  }

  // One group per union-find root, in order of first producer.
  Structure gather() {
    Structure s;
    std::vector<size_t> index(groups_.size(), kNoGroup);
    for (size_t g = 0; g < groups_.size(); ++g) {
      size_t& to = index[find(g)];
      if (to == kNoGroup) {
        to = s.groups.size();
        s.groups.push_back({.units = groups_[g].units});
      }
      ChannelGroup& out = s.groups[to];
      const ChannelGroup& in = groups_[g];
      out.producers.insert(out.producers.end(), in.producers.begin(), in.producers.end());
      out.readers.insert(out.readers.end(), in.readers.begin(), in.readers.end());
      out.followers.insert(out.followers.end(), in.followers.begin(), in.followers.end());
      out.removable = out.removable && in.removable;
      if (out.note.empty()) out.note = in.note;
    }
    s.layers = std::move(layers_);
    for (PrunableLayer& p : s.layers) {
      p.group = index[find(p.group)];
      p.note = s.groups[p.group].note;
    }
    for (ChannelGroup& g : s.groups) {
      if (g.producers.size() != 1 || g.readers.size() != 1 || !g.followers.empty()) continue;
      if (s.layers[g.producers[0]].sequence) continue;  // the fold assumes [units, spatial]
      const size_t from = s.layers[g.producers[0]].layer_index;
      const size_t to = s.layers[g.readers[0].layer].layer_index;
      g.chain = true;
      for (size_t j = from; j < to; ++j) g.chain = g.chain && model_.feeds_next_only(j);
    }
    return s;
  }

  const nn::Model& model_;
  const ParamStore& ps_;
  std::vector<Runs> outs_;             // per layer: where its output's unit axis comes from
  std::vector<bool> seq_;              // per layer: its output is a sequence
  std::vector<PrunableLayer> layers_;  // in forward order
  std::vector<ChannelGroup> groups_;   // one per prunable layer until gathered
  std::vector<size_t> parent_;         // union-find over groups_
};

}  // namespace

Structure prunable_structure(const nn::Model& model, const ParamStore& ps) {
  return Walk(model, ps).run();
}

std::string layer_names(const std::vector<PrunableLayer>& layers) {
  std::string s;
  for (size_t i = 0; i < layers.size(); ++i)
    if (i == 0 || layers[i].name != layers[i - 1].name)
      s += (s.empty() ? "" : ", ") + layers[i].name;
  return s;
}

}  // namespace sculpt::prune

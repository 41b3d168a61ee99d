// Shared by the pruning tests: a small MLP bound to a parameter store with its prunable layers.
#pragma once

#include <map>
#include <string>
#include <utility>
#include <vector>

#include "core/masks.h"
#include "core/rng.h"
#include "io/checkpoint.h"
#include "nn/model.h"
#include "prune/structure.h"

namespace sculpt::prune::test_net {

inline nn::LayerSpec L(std::string type, std::map<std::string, double> args = {}) {
  return nn::LayerSpec{std::move(type), "", std::move(args)};
}

struct Net {
  nn::Model model;
  ParamStore ps;
  Structure structure;
  std::vector<PrunableLayer> layers;  // structure.layers
};

// The one layer reading p's units and its columns per unit, on a chain; null when p's units are
// not removable (the outputs, or read through a layer that mixes channels).
inline const ChannelReader* sole_reader(const Structure& s, const PrunableLayer& p) {
  const ChannelGroup& g = s.groups[p.group];
  return g.removable && g.readers.size() == 1 ? &g.readers[0] : nullptr;
}

// The checkpoint of `ps`'s values with `masks` (mask.<name>), as surgery reads it.
inline io::Checkpoint masked_checkpoint(const ParamStore& ps, const Masks& masks) {
  io::Checkpoint ck;
  for (size_t i = 0; i < ps.count(); ++i) {
    const ParamEntry& e = ps.entry(i);
    ck.tensors[e.name] = {e.shape, {ps.value(i), ps.value(i) + e.size}};
    const float* k = masks.keep_data() + e.offset;
    ck.tensors["mask." + e.name] = {e.shape, {k, k + e.size}};
  }
  return ck;
}

// 8x8 inputs, fc1 32 units reading 64 inputs each, fc2 16 reading 32, fc3 4 reading 16.
inline Net build_mlp(uint64_t seed) {
  const nn::ModelSpec spec{{L("flatten"), L("linear", {{"out", 32}}), L("relu"),
                            L("linear", {{"out", 16}}), L("relu"), L("linear", {{"out", 4}})}};
  Net n{nn::Model::build(spec, Shape{1, 8, 8}), {}, {}, {}};
  n.model.declare(n.ps);
  n.ps.finalize();
  Rng rng(seed);
  n.model.init(n.ps, rng);
  n.structure = prunable_structure(n.model, n.ps);
  n.layers = n.structure.layers;
  return n;
}

}  // namespace sculpt::prune::test_net

// Shared by the pruning tests: a small MLP bound to a parameter store with its prunable layers.
#pragma once

#include <map>
#include <string>
#include <utility>
#include <vector>

#include "core/rng.h"
#include "nn/model.h"
#include "prune/structure.h"

namespace sculpt::prune::test_net {

inline nn::LayerSpec L(std::string type, std::map<std::string, double> args = {}) {
  return nn::LayerSpec{std::move(type), "", std::move(args)};
}

struct Net {
  nn::Model model;
  ParamStore ps;
  std::vector<PrunableLayer> layers;
};

// 8x8 inputs, fc1 32 units reading 64 inputs each, fc2 16 reading 32, fc3 4 reading 16.
inline Net build_mlp(uint64_t seed) {
  const nn::ModelSpec spec{{L("flatten"), L("linear", {{"out", 32}}), L("relu"),
                            L("linear", {{"out", 16}}), L("relu"), L("linear", {{"out", 4}})}};
  Net n{nn::Model::build(spec, Shape{1, 8, 8}), {}, {}};
  n.model.declare(n.ps);
  n.ps.finalize();
  Rng rng(seed);
  n.model.init(n.ps, rng);
  n.layers = prunable_layers(n.model, n.ps);
  return n;
}

}  // namespace sculpt::prune::test_net

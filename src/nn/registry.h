// The layer registry: one explicit table row per layer type (type, doc, arguments, factory,
// example configurations). Model::build and `sculpt list layers` read it; the conformance suite
// runs every row's examples through the gradient checker, so a new layer is tested for free.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/shape.h"
#include "nn/layer.h"
#include "nn/model.h"

namespace sculpt::nn {

struct LayerArgInfo {
  std::string name;
  std::optional<double> default_value;  // nullopt: required
  std::string doc;
  bool required() const { return !default_value.has_value(); }
};

// A configuration the conformance suite exercises (and `sculpt list` may show).
struct LayerExample {
  std::map<std::string, double> args;
  Shape input;  // per-sample input shape
};

// Resolved arguments: every declared argument present (defaults filled in).
using LayerArgs = std::map<std::string, double>;

struct LayerInfo {
  std::string type;
  std::string doc;
  std::vector<LayerArgInfo> args;
  std::function<std::unique_ptr<Layer>(const std::string& name, const LayerArgs& args)> make;
  std::vector<LayerExample> examples;
};

// Every layer type, in display order.
const std::vector<LayerInfo>& layer_registry();
// nullptr when unknown.
const LayerInfo* find_layer_info(const std::string& type);

// Instantiates spec.type named spec.name (spec.type when empty). Throws ConfigError for an
// unknown type, an unknown or missing argument, or an invalid value, naming the layer and the
// argument, with a "did you mean" hint.
std::unique_ptr<Layer> make_layer(const LayerSpec& spec);

}  // namespace sculpt::nn

// [optim] as a recipe gives it: the optimizer's name, its options as written, and the parameter
// groups. io/recipe.h reads it from TOML; optim/registry.h resolves the options and builds the
// optimizer. Owned here, so the optimizers never include io.
#pragma once

#include <string>
#include <vector>

#include "core/fields.h"
#include "core/options.h"

namespace sculpt {

// One [[optim.groups]] table: tensors whose names match any glob in `params` get these settings.
struct ParamGroupConfig {
  std::vector<std::string> params;  // glob patterns on parameter names: "*.bias", "fc3.*"
  double lr_scale = 1.0;            // multiplies the scheduled rate
  double weight_decay = -1.0;       // -1: the optimizer's (and none on biases); else this value
  bool frozen = false;              // never updated
  std::string where;                // position in the recipe (for messages)

  static const std::vector<Field<ParamGroupConfig>>& fields();  // params is parsed by hand
};

// [optim]: `name` picks the optimizer and decides which other keys exist (see
// optim/optimizer.h, `sculpt list optimizers`). `options` holds them as written until
// parse_recipe resolves them against the optimizer (every key, defaults filled in).
struct OptimConfig {
  std::string name = "sgd";
  Options options;
  std::vector<ParamGroupConfig> groups;

  // For recipes built in code: r.optim.set("lr", 0.05).set("momentum", 0.9).
  OptimConfig& set(std::string key, FieldValue value) {
    options.set(std::move(key), std::move(value), "optim");
    return *this;
  }
};

}  // namespace sculpt

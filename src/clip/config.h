// [clip] as a recipe gives it: the rule's name and its options as written. io/recipe.h reads it
// from TOML; clip/registry.h resolves the options and builds the clipper. Owned here, so the
// clipping rules never include io.
#pragma once

#include <string>
#include <vector>

#include "core/fields.h"
#include "core/options.h"

namespace sculpt {

// [clip]: `name` picks the gradient clipping rule and decides which other keys exist
// (clip/clipper.h, `sculpt list clippers`). `options` holds them as written until
// parse_recipe resolves them (every key, defaults filled in).
struct ClipConfig {
  std::string name = "none";
  Options options;

  // For recipes built in code: r.clip.set("name", "global-norm").set("max_norm", 1.0).
  ClipConfig& set(std::string key, FieldValue value) {
    if (key == "name")
      name = std::get<std::string>(value);
    else
      options.set(std::move(key), std::move(value), "clip");
    return *this;
  }
};

}  // namespace sculpt

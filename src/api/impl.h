// The library's side of the public API's classes (include/sculpt): what each facade holds.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "data/dataset.h"
#include "infer/inference_model.h"
#include "io/recipe.h"
#include "run/run.h"
#include "sculpt/data.h"
#include "sculpt/inference.h"
#include "sculpt/recipe.h"
#include "sculpt/run.h"

namespace sculpt {

struct Recipe::Impl {
  std::string text;                    // as read (a file's bytes or the string given)
  std::string source;                  // the file or name, for messages
  std::vector<std::string> overrides;  // applied in order, as --set
  RecipeConfig config;                 // the result

  static Impl parsed(std::string text, std::string source, std::vector<std::string> overrides);
  static Impl of(const RecipeConfig& config);  // a resolved recipe (a run's)
};

struct Run::Impl {
  std::unique_ptr<run::Run> run;
};

struct InferenceModel::Impl {
  infer::InferenceModel model;
};

// A dataset as Samples, its inputs taken back from the standardisation x' = (x - mean) / std.
Samples samples_of(const data::Dataset& ds, float mean, float std);

}  // namespace sculpt

// Internal to the CLI: what `sculpt prune` and `sculpt prune sensitivity` start from, a
// checkpoint written by `sculpt train` (or by an earlier `sculpt prune`), and the trainers they
// build from the recipe stored in it.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "io/checkpoint.h"
#include "io/recipe.h"
#include "train/trainer.h"

namespace sculpt::cli {

struct PruneSource {
  std::string path;         // the checkpoint file
  std::string run_dir;      // the run directory it belongs to, when given one
  io::Checkpoint checkpoint;
  std::string recipe_text;  // the run's resolved recipe (checkpoint metadata)
};

// `model`: a run directory (its checkpoints/last.safetensors) or a checkpoint file.
PruneSource load_prune_source(const std::string& model);

// A trainer for `recipe` (progress off, no pruning during training) holding the weights and
// masks of `ck` with fresh optimizer state. `rewind`: the weights from ck's rewind.* tensors.
std::unique_ptr<train::Trainer> trainer_from(RecipeConfig recipe, const io::Checkpoint& ck,
                                             const std::string& where, bool rewind = false);

// The recipe stored in the source with `overrides` ("table.key=value") applied.
RecipeConfig source_recipe(const PruneSource& src, const std::vector<std::string>& overrides);

}  // namespace sculpt::cli

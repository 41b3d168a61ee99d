// Loading the starting point of `sculpt prune` and handing weights from trainer to trainer.
#include "cli/prune_source.h"

#include <filesystem>

#include "core/error.h"
#include "run/checkpoints.h"

namespace sculpt::cli {

using namespace sculpt::run;  // run directories and checkpoints (src/run)

PruneSource load_prune_source(const std::string& model) {
  namespace fs = std::filesystem;
  PruneSource src;
  if (fs::is_directory(model)) {
    src.run_dir = model;
    src.path = (fs::path(model) / "checkpoints" / "last.safetensors").string();
  } else {
    src.path = model;
  }
  src.checkpoint = load_checkpoint_warning(src.path);
  auto it = src.checkpoint.metadata.find("recipe");
  SCULPT_CHECK(it != src.checkpoint.metadata.end(), DataError,
               "the checkpoint has no recipe in its metadata", src.path,
               "prune a checkpoint written by `sculpt train`");
  src.recipe_text = it->second;
  return src;
}

RecipeConfig source_recipe(const PruneSource& src, const std::vector<std::string>& overrides) {
  std::vector<std::string> all = {"output.progress=none", "prune.when=none"};
  all.insert(all.end(), overrides.begin(), overrides.end());
  return parse_recipe(src.recipe_text, src.path + " (recipe)", all);
}

std::unique_ptr<train::Trainer> trainer_from(RecipeConfig recipe, const io::Checkpoint& ck,
                                             const std::string& where, bool rewind) {
  recipe.output.progress = "none";
  recipe.prune.when = prune::When::kNone;
  std::unique_ptr<train::Trainer> t;
  try {
    t = std::make_unique<train::Trainer>(std::move(recipe));
  } catch (const Error& e) {  // the model or the data the checkpoint's recipe describes
    e.rethrow_within(where + " (recipe)");
  }
  t->load_weights(ck, where, rewind);
  return t;
}

}  // namespace sculpt::cli

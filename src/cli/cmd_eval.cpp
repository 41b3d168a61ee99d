// `sculpt eval --model RUN_DIR|CHECKPOINT`: rebuilds the model from the recipe stored in the
// checkpoint, loads its weights and evaluates it on a split of the data.
#include <fmt/format.h>

#include <filesystem>
#include <memory>
#include <string>

#include "cli/commands.h"
#include "cli/prune_source.h"
#include "cli/verb.h"
#include "core/error.h"
#include "io/checkpoint.h"
#include "io/recipe.h"
#include "run/checkpoints.h"
#include "train/trainer.h"

namespace sculpt::cli {

using namespace sculpt::run;  // run directories and checkpoints (src/run)

namespace {

struct EvalArgs {
  std::string model;
  std::string data;
  std::string split = "test";
  std::vector<std::string> sets;
};

std::string checkpoint_path(const std::string& model) {
  namespace fs = std::filesystem;
  if (fs::is_directory(model))
    return (fs::path(model) / "checkpoints" / "last.safetensors").string();
  return model;
}

void run_eval(const EvalArgs& a) {
  const std::string path = checkpoint_path(a.model);
  const io::Checkpoint ckpt = load_checkpoint_warning(path);
  auto it = ckpt.metadata.find("recipe");
  SCULPT_CHECK(it != ckpt.metadata.end(), DataError, "checkpoint has no recipe in its metadata",
               path, "evaluate a checkpoint written by `sculpt train`");
  std::vector<std::string> overrides = a.sets;
  overrides.push_back("output.progress=none");
  if (!a.data.empty()) overrides.push_back("data.path=" + a.data);
  RecipeConfig recipe = parse_recipe(it->second, path + " (recipe)", overrides);

  // The weights and masks (checked to be 0/1), errors naming the checkpoint.
  const std::unique_ptr<train::Trainer> t = trainer_from(recipe, ckpt, path);
  train::Trainer& trainer = *t;
  const auto& sp = trainer.splits();
  const data::Dataset* ds = a.split == "test" ? &sp.test : a.split == "val" ? &sp.val : &sp.train;
  SCULPT_CHECK(ds->size() > 0, DataError, "the " + a.split + " split is empty", path,
               "choose another split with --split");
  const train::EvalResult r = trainer.evaluate_split(*ds);
  fmt::print("model:    {} ({} parameters)\n", path, trainer.params().num_params());
  fmt::print("data:     {} ({} samples)\n", a.split, r.samples);
  fmt::print("loss:     {:.6f}\n", r.loss);
  if (ds->task != data::Task::kRegression) fmt::print("accuracy: {:.2f}%\n", 100.0 * r.accuracy);
  if (ds->positions > 1) fmt::print("text:     {}\n", sp.vocabulary.perplexity_text(r.loss));
}

}  // namespace

void add_eval(CLI::App& app) {
  const auto [sub, args] =
      add_verb<EvalArgs>(app, "eval", "Evaluate a trained model on its data", run_eval);
  sub->add_option("--model,-m", args->model, "Run directory or checkpoint file")->required();
  sub->add_option("--data,-d", args->data, "Data path (overrides data.path of the run's recipe)");
  sub->add_option("--split", args->split, "test | val | train")
      ->check(CLI::IsMember({"test", "val", "train"}))
      ->capture_default_str();
  add_set_option(sub, args->sets);
}

}  // namespace sculpt::cli

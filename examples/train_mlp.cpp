// Trains, prunes and exports a model from C++ with the library's Run: the same run directory,
// metrics, checkpoints and report as `sculpt train`, then the pruned model exported and run
// by the inference runtime on the test split. Built with the default build as
// build/<preset>/sculpt-train-example.
//
//   sculpt-train-example [RECIPE.toml] [RUN_DIR] [key=value ...]
//   sculpt-train-example recipes/prune-gradual.toml runs/example train.epochs=3
//
// (defaults: recipes/prune-gradual.toml, runs/train-example-<time>). Ctrl-C is not caught here:
// a program that wants a clean stop calls Run::request_stop from a hook or a signal flag.
#include <algorithm>
#include <cstdio>
#include <string>
#include <vector>

#include "core/error.h"
#include "infer/inference_model.h"
#include "io/recipe.h"
#include "run/run.h"
#include "run/run_dir.h"
#include "train/export.h"

int main(int argc, char** argv) {
  const std::string recipe_path = argc > 1 ? argv[1] : "recipes/prune-gradual.toml";
  const std::string dir = argc > 2 ? argv[2] : "";
  std::vector<std::string> overrides(argv + std::min(argc, 3), argv + argc);
  overrides.push_back("output.progress=none");  // this program prints its own lines
  try {
    auto run = sculpt::run::Run::start(sculpt::load_recipe(recipe_path, overrides), dir);
    std::printf("run directory %s\n", run->dir().c_str());
    sculpt::train::TrainHooks hooks;
    hooks.on_epoch = [](const sculpt::train::EpochEvent& e) {
      std::printf("epoch %lld: train loss %.4f, val accuracy %.2f%%, sparsity %.1f%%\n",
                  static_cast<long long>(e.epoch), e.train_loss, 100.0 * e.val.accuracy,
                  100.0 * e.sparsity);
    };
    const sculpt::run::Outcome out = run->train(hooks);
    std::printf("test accuracy %.2f%% after %.1f s\n", 100.0 * out.last.test.accuracy,
                out.wall_seconds);
    sculpt::run::write_report(run->dir());

    // The pruned model without its dead units, written and read back by the runtime.
    const sculpt::train::ExportSource exported =
        sculpt::train::export_from_trainer(run->trainer(), run->dir());
    const std::string model_path = run->dir() + "/model.sculpt";
    sculpt::infer::write_export(model_path, exported.model, {});
    sculpt::infer::InferenceModel model = sculpt::infer::InferenceModel::load(model_path);
    // The trainer holds the inputs standardised; the exported model standardises them itself,
    // so it gets them as they were read.
    const auto& splits = run->trainer().splits();
    const auto& test = splits.test;
    std::vector<float> x(test.x.data(), test.x.data() + test.x.size());
    for (float& v : x) v = v * splits.norm_std + splits.norm_mean;
    const std::vector<int32_t> classes = model.classify(x);
    int64_t right = 0;
    for (size_t i = 0; i < classes.size(); ++i) right += classes[i] == test.labels[i];
    std::printf("exported %s: %.2f%% of %zu test samples right\n", model_path.c_str(),
                100.0 * double(right) / double(classes.size()), classes.size());
    return 0;
  } catch (const sculpt::Error& e) {
    std::fprintf(stderr, "%s\n", e.what());
    return 1;
  }
}

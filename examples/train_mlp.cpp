// Trains, prunes and exports a model from C++ through the public API (include/sculpt): the same
// run directory, metrics, checkpoints and report as `sculpt train`, then the pruned model
// exported and run by the inference runtime on the test split. Built with the default build as
// build/<preset>/sculpt-train-example.
//
//   sculpt-train-example [RECIPE.toml] [RUN_DIR] [key=value ...]
//   sculpt-train-example recipes/prune-gradual.toml runs/example train.epochs=3
//
// (defaults: recipes/prune-gradual.toml, runs/train-example-<time>). Ctrl-C is not caught here:
// a program that wants a clean stop calls Run::request_stop from a callback or another thread.
#include <sculpt/sculpt.h>

#include <algorithm>
#include <cstdio>
#include <string>
#include <vector>

int main(int argc, char** argv) {
  const std::string recipe_path = argc > 1 ? argv[1] : "recipes/prune-gradual.toml";
  const std::string dir = argc > 2 ? argv[2] : "";
  const std::vector<std::string> overrides(argv + std::min(argc, 3), argv + argc);
  try {
    sculpt::Run run = sculpt::Run::start(sculpt::Recipe::load(recipe_path, overrides), dir);
    std::printf("run directory %s\n", run.dir().c_str());
    sculpt::Callbacks callbacks;
    callbacks.on_epoch = [](const sculpt::EpochRecord& e) {
      std::printf("epoch %lld: train loss %.4f, val accuracy %.2f%%, sparsity %.1f%%\n",
                  static_cast<long long>(e.epoch), e.train_loss, 100.0 * e.val.accuracy,
                  100.0 * e.sparsity);
    };
    const sculpt::RunResult out = run.train(callbacks);
    std::printf("test accuracy %.2f%% after %.1f s\n", 100.0 * out.last.test.accuracy,
                out.wall_seconds);
    run.write_report();

    // The pruned model without its dead units, written and read back by the runtime.
    const sculpt::ExportResult exported = run.export_model(run.dir() + "/model.sculpt");
    std::printf("exported %lld of %lld parameters in %lld bytes\n",
                static_cast<long long>(exported.nonzeros), static_cast<long long>(exported.params),
                static_cast<long long>(exported.bytes));
    sculpt::InferenceModel model = sculpt::InferenceModel::load(exported.path);
    const sculpt::Samples test = run.samples("test");
    const std::vector<int32_t> classes = model.classify(test.x);
    int64_t right = 0;
    for (size_t i = 0; i < classes.size(); ++i) right += classes[i] == test.labels[i];
    std::printf("exported %s: %.2f%% of %zu test samples right\n", exported.path.c_str(),
                100.0 * double(right) / double(classes.size()), classes.size());
    return 0;
  } catch (const sculpt::Error& e) {
    std::fprintf(stderr, "%s\n", e.what());
    return e.exit_code();
  }
}

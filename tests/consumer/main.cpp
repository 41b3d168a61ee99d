// Uses the installed library through its public API only (<sculpt/sculpt.h>): trains a small
// classifier with pruning during training, saves and resumes it, exports it, runs the export
// and checks that every step did its work; bad input must come back as sculpt::Error.
// Returns non-zero (and says why) when the installed library does not behave.
// Usage: consumer WORK_DIR
#include <sculpt/sculpt.h>

#include <cmath>
#include <cstdio>
#include <string>
#include <vector>

namespace {

const char* kRecipe = R"(
[data]
source = "synthetic-blobs"
samples = 1200
features = 8
separation = 4.0
val_fraction = 0.1
test_fraction = 0.2

[model]
name = "binary-mlp"

[optim]
name = "sgd"
lr = 0.1
momentum = 0.9

[prune]
when = "gradual"
sparsity = 0.5
start = 0.0
end = 1.0
every = 5

[train]
epochs = 2
batch_size = 32
loss = "bce"
seed = 7

[output]
checkpoint_every = 10
)";

int failures = 0;

void expect(bool ok, const std::string& what) {
  if (!ok) {
    std::fprintf(stderr, "consumer: FAILED: %s\n", what.c_str());
    ++failures;
  }
}

// `f` must throw a sculpt::Error of kind T whose message contains `text`.
template <class T, class F>
void expect_error(F f, const std::string& text, const std::string& what) {
  try {
    f();
  } catch (const T& e) {
    expect(std::string(e.what()).find(text) != std::string::npos,
           what + ": message \"" + e.what() + "\" lacks \"" + text + "\"");
    return;
  } catch (const std::exception& e) {
    expect(false, what + ": threw another kind: " + e.what());
    return;
  }
  expect(false, what + ": did not throw");
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: consumer WORK_DIR\n");
    return 2;
  }
  const std::string work = argv[1];
  try {
    sculpt::Recipe recipe = sculpt::Recipe::parse(kRecipe, "consumer");
    expect(recipe.toml().find("epochs = 2") != std::string::npos, "toml() has train.epochs");
    expect_error<sculpt::ConfigError>([&] { recipe.set("train.epoch=3"); }, "did you mean 'epochs'",
                                      "an unknown key is refused with a suggestion");
    recipe.set("train.epochs=1");  // trained to 1 epoch, resumed to 2 below

    int steps = 0, epochs = 0;
    sculpt::Callbacks callbacks;
    callbacks.on_step = [&](const sculpt::StepRecord& s) { steps += s.step > 0; };
    callbacks.on_epoch = [&](const sculpt::EpochRecord&) { ++epochs; };
    const std::string dir = work + "/run";
    {
      sculpt::Run run = sculpt::Run::start(recipe, dir);
      const sculpt::RunResult r = run.train(callbacks);
      expect(!r.stopped && run.complete() && run.epoch() == 1, "the first epoch is trained");
    }
    sculpt::Run run = sculpt::Run::resume(dir, {"train.epochs=2"});
    const sculpt::RunResult r = run.train(callbacks);
    expect(epochs == 2 && steps == run.step(), "callbacks saw every step and epoch");
    expect(r.last.epoch == 2 && r.last.test.samples == 240, "the resumed run ends at epoch 2");
    expect(r.last.test.accuracy > 0.9,
           "the classifier learned (test accuracy " + std::to_string(r.last.test.accuracy) + ")");
    expect(std::abs(r.last.sparsity - 0.5) < 0.02, "gradual pruning reached 50% sparsity");

    expect(std::abs(run.evaluate("test").accuracy - r.last.test.accuracy) < 1e-9,
           "evaluate() agrees with training");
    const double sparsity = run.prune({"sparsity=0.7"});
    expect(std::abs(sparsity - 0.7) < 0.02, "one-shot pruning to 70%");
    const sculpt::ModelSummary m = run.model();
    expect(!m.layers.empty() && m.nonzeros < m.params && m.weight_sparsity == sparsity,
           "the model summary counts pruned weights");
    expect_error<sculpt::ConfigError>([&] { run.prune({"sparsity=1.5"}); }, "prune.sparsity",
                                      "an out-of-range setting is refused naming the key");
    const sculpt::Evaluation test = run.evaluate("test");
    expect_error<sculpt::ConfigError>([&] { run.evaluate("tset"); }, "train | val | test",
                                      "an unknown split is refused");

    const sculpt::ExportResult ex = run.export_model(dir + "/model.sculpt");
    expect(ex.bytes > 0 && ex.nonzeros < ex.params, "the export is written, pruned");
    sculpt::InferenceModel model = sculpt::InferenceModel::load(ex.path);
    const sculpt::Samples samples = run.samples("test");
    const std::vector<int32_t> classes = model.classify(samples.x);
    int64_t right = 0;
    for (size_t i = 0; i < classes.size(); ++i) right += classes[i] == samples.labels[i];
    const double acc = double(right) / double(samples.n);
    expect(std::abs(acc - test.accuracy) < 1e-9,
           "the export scores as training did (" + std::to_string(acc) + ")");
    expect(!run.write_report().empty(), "the report is written");
    expect_error<sculpt::IoError>([&] { sculpt::InferenceModel::load(work + "/missing"); },
                                  "missing", "a missing model is an IoError naming it");
    expect_error<sculpt::ConfigError>([&] { run.export_model(dir + "/recipe.toml"); },
                                      "recipe.toml", "an export never replaces another file");
  } catch (const sculpt::Error& e) {
    std::fprintf(stderr, "consumer: unexpected error: %s\n", e.what());
    return 1;
  }
  if (failures) return 1;
  std::printf(
      "consumer: ok (trained, resumed, pruned, exported and ran through <sculpt/sculpt.h>)\n");
  return 0;
}

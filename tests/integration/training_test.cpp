// End-to-end training through the CLI on real Fashion-MNIST and synthetic data, asserting on
// outcomes: accuracy bounds, recovered weights, valid run directories, eval reproducing train.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "core/run_context.h"
#include "data/load.h"
#include "integration/browser.h"
#include "integration/cli_harness.h"
#include "io/checkpoint.h"
#include "io/recipe.h"
#include "optim/optimizer.h"
#include "skip.h"

namespace sculpt::testing {
namespace {

namespace fs = std::filesystem;

nlohmann::json last_event(const std::vector<nlohmann::json>& m, const std::string& ev) {
  for (auto it = m.rbegin(); it != m.rend(); ++it)
    if ((*it)["event"] == ev) return *it;
  return {};
}

// The must-show of the foundation: the default recipe (the MLP, 10 epochs, now pruned to 90%
// on the way) reaches 88%.
TEST(Training, DefaultRecipeTrainsTheMlpAbove88PercentAndEvalAgrees) {
  SCULPT_REQUIRE(have_fashion(),
                 "Fashion-MNIST not installed (scripts/deps.sh installs dataset-fashion-mnist)");
  TempDir dir("mlp");
  const std::string run = dir.file("run");
  CliResult r = run_cli("train --recipe " + recipe_path("default.toml") + " --out " + run);
  ASSERT_EQ(r.code, 0) << r.output;
  EXPECT_NE(r.output.find("run directory"), std::string::npos);
  auto m = read_metrics(run);
  nlohmann::json end = last_event(m, "end");
  ASSERT_FALSE(end.is_null()) << r.output;
  const double acc = end["test_acc"].get<double>();
  EXPECT_GE(acc, 0.88) << r.output;
  int epochs = 0;
  for (const auto& e : m) epochs += e["event"] == "epoch";
  EXPECT_EQ(epochs, 10);
  EXPECT_NEAR(last_event(m, "epoch")["sparsity"].get<double>(), 0.9, 1e-4);
  ASSERT_TRUE(fs::exists(run + "/recipe.toml"));
  ASSERT_TRUE(fs::exists(run + "/checkpoints/last.safetensors"));
  // The run report's must-show: the default run's report.html opens in headless Chromium with
  // every chart drawn (report_test.cpp tests the reports in detail).
  ASSERT_TRUE(fs::exists(run + "/report.html"));

  CliResult e = run_cli("eval --model " + run);
  ASSERT_EQ(e.code, 0) << e.output;
  char expect[32];
  std::snprintf(expect, sizeof expect, "%.2f%%", 100.0 * acc);
  EXPECT_NE(e.output.find(expect), std::string::npos) << e.output << " expected " << expect;

  // Last, so that without a browser the checks above have run and the test shows as skipped
  // (a failure under CI=true), never as a pass that quietly left this half out.
  const std::string chromium = find_chromium();
  SCULPT_REQUIRE(!chromium.empty(), "chromium not found: the report was not opened in a browser");
  const BrowserView v = open_in_chromium(chromium, run + "/report.html", dir.path());
  expect_drawn_cleanly(v);
  const auto charts = charts_in(v.dom);
  for (const char* id : {"loss", "accuracy", "lr", "grad-norm", "clip-rate", "sparsity"})
    EXPECT_TRUE(charts.count(id)) << id;
  EXPECT_EQ(charts.at("loss").at("test"), 10);
}

TEST(Training, SeedCnnReaches88PercentInFiveEpochs) {
  SCULPT_REQUIRE(have_fashion(),
                 "Fashion-MNIST not installed (scripts/deps.sh installs dataset-fashion-mnist)");
  TempDir dir("cnn");
  const std::string run = dir.file("run");
  // Under the sanitizers: one epoch on 6,000 images, 75% measured on 2026-11-26 (chance: 10%).
  const std::string slice =
      kSanitized ? " --set train.epochs=1 --set data.limit_train=6000 --set data.limit_test=2000"
                 : "";
  CliResult r = run_cli("train -q --recipe " + recipe_path("cnn.toml") + slice + " --out " + run);
  ASSERT_EQ(r.code, 0) << r.output;
  nlohmann::json end = last_event(read_metrics(run), "end");
  ASSERT_FALSE(end.is_null());
  EXPECT_GE(end["test_acc"].get<double>(), kSanitized ? 0.65 : 0.88) << r.output;
}

// The seed articles' MLP (100 hidden units) with Adam: 87.3% measured on 2026-11-25.
TEST(Training, SeedAdamMlpReaches86Percent) {
  SCULPT_REQUIRE(have_fashion(),
                 "Fashion-MNIST not installed (scripts/deps.sh installs dataset-fashion-mnist)");
  TempDir dir("adam");
  const std::string run = dir.file("run");
  CliResult r = run_cli("train -q --recipe " + recipe_path("mlp-adam.toml") + " --out " + run);
  ASSERT_EQ(r.code, 0) << r.output;
  nlohmann::json end = last_event(read_metrics(run), "end");
  ASSERT_FALSE(end.is_null());
  EXPECT_GE(end["test_acc"].get<double>(), 0.86) << r.output;
}

// train.precision = "bf16": the MLP's products in bfloat16 learn as fp32 does (2 epochs on
// 10,000 images, the same seed: both above 78% and within 3 points of each other; one short run
// of one seed moves by a point or two with the rounding, the 3-seed comparison is the quality
// table's), the start names the path; an unknown precision is one clear error.
TEST(Training, Bf16TrainsTheMlpAsFp32Does) {
  SCULPT_REQUIRE(have_fashion(),
                 "Fashion-MNIST not installed (scripts/deps.sh installs dataset-fashion-mnist)");
  TempDir dir("bf16");
  const std::string base = "train --recipe " + recipe_path("mlp.toml") +
                           " --set data.limit_train=10000 --set train.epochs=2";
  double acc[2] = {0, 0};
  std::string outputs;
  for (int bf16 = 0; bf16 < 2; ++bf16) {
    const std::string run = dir.file(bf16 ? "bf16" : "fp32");
    CliResult r = run_cli(base + (bf16 ? " --set train.precision=bf16" : "") + " --out " + run);
    ASSERT_EQ(r.code, 0) << r.output;
    EXPECT_EQ(r.output.find("precision: bf16 products: ") != std::string::npos, bf16 == 1)
        << r.output;
    nlohmann::json end = last_event(read_metrics(run), "end");
    ASSERT_FALSE(end.is_null());
    acc[bf16] = end["test_acc"].get<double>();
    outputs += r.output;
  }
  EXPECT_GE(acc[0], 0.78) << outputs;
  EXPECT_GE(acc[1], 0.78) << outputs;
  EXPECT_NEAR(acc[1], acc[0], 0.03) << outputs;
  CliResult bad = run_cli(base + " --set train.precision=fp8 --out " + dir.file("bad"));
  EXPECT_EQ(bad.code, 2) << bad.output;
  EXPECT_NE(bad.output.find("train.precision"), std::string::npos) << bad.output;
  EXPECT_NE(bad.output.find("bf16"), std::string::npos) << bad.output;
}

// Every registered optimizer, with its own defaults (SGD: lr 0.1, its default 0.01 is for
// momentum), learns the MLP: 2 epochs on 10,000 images give 75-81% (chance: 10%).
TEST(Training, EveryOptimizerTrainsTheMlpWithItsDefaults) {
  SCULPT_REQUIRE(have_fashion(),
                 "Fashion-MNIST not installed (scripts/deps.sh installs dataset-fashion-mnist)");
  TempDir dir("every-optim");
  for (const std::string& name : optim::optimizer_names()) {
    SCOPED_TRACE(name);
    const std::string recipe = dir.write(
        name + ".toml", "[data]\nlimit_train = 10000\n[optim]\nname = \"" + name + "\"\n" +
                            (name == "sgd" ? "lr = 0.1\n" : "") + "[train]\nepochs = 2\n");
    const std::string run = dir.file("run-" + name);
    CliResult r = run_cli("train -q --recipe " + recipe + " --out " + run);
    ASSERT_EQ(r.code, 0) << r.output;
    nlohmann::json end = last_event(read_metrics(run), "end");
    ASSERT_FALSE(end.is_null());
    EXPECT_GE(end["test_acc"].get<double>(), 0.74) << r.output;
  }
}

TEST(Training, BinaryRecipeSeparatesBlobs) {
  TempDir dir("bin");
  const std::string run = dir.file("run");
  CliResult r = run_cli("train -q --recipe " + recipe_path("binary.toml") + " --out " + run);
  ASSERT_EQ(r.code, 0) << r.output;
  nlohmann::json end = last_event(read_metrics(run), "end");
  ASSERT_FALSE(end.is_null());
  EXPECT_GE(end["test_acc"].get<double>(), 0.95) << r.output;
}

// A character model on text: the vocabulary and the output width come from the data, the loss
// and accuracy count every position, and the export and eval reproduce the run.
TEST(Training, CharacterLstmLearnsARepeatingText) {
  TempDir dir("text");
  std::string text;
  for (int i = 0; i < 300; ++i) text += "the cat sat on the mat. ";
  const std::string data = dir.write("text.txt", text);
  const std::string recipe = dir.write("r.toml", R"([data]
source = "text"
steps = 24
[[model.layers]]
type = "embedding"
dim = 8
[[model.layers]]
type = "lstm"
hidden = 32
[[model.layers]]
type = "linear"
out = 0
[optim]
name = "adam"
lr = 0.02
[train]
epochs = 3
batch_size = 16
)");
  const std::string run = dir.file("run");
  CliResult r =
      run_cli("train -q --recipe " + recipe + " --set data.path=" + data + " --out " + run);
  ASSERT_EQ(r.code, 0) << r.output;
  nlohmann::json end = last_event(read_metrics(run), "end");
  ASSERT_FALSE(end.is_null()) << r.output;
  // 11 characters; the most frequent (' ') is 6 of 24: a model that learnt nothing scores 25%.
  EXPECT_GE(end["test_acc"].get<double>(), 0.9) << r.output;
  CliResult e = run_cli("export --checkpoint " + run + " --out " + dir.file("m.sculpt"));
  ASSERT_EQ(e.code, 0) << e.output;
  EXPECT_NE(e.output.find("test predictions (every position)"), std::string::npos) << e.output;
  // Perplexity exp(loss) and bits per character loss / ln 2, here near 1 and 0.
  CliResult v = run_cli("eval --model " + run);
  ASSERT_EQ(v.code, 0) << v.output;
  EXPECT_NE(v.output.find("text:     perplexity 1.0"), std::string::npos) << v.output;
}

TEST(Training, LinearRegressionRecoversTheTrueWeights) {
  TempDir dir("lin");
  const std::string run = dir.file("run");
  CliResult r = run_cli("train -q --recipe " + recipe_path("linreg.toml") + " --out " + run);
  ASSERT_EQ(r.code, 0) << r.output;

  // Regenerate the same synthetic data (same recipe, same seed) to know the true weights.
  RecipeConfig recipe = load_recipe(recipe_path("linreg.toml"));
  RunContext ctx = RunContext::make(recipe.train.seed, 1);
  data::Splits sp = data::load_splits(recipe.data, ctx.data_rng);
  ASSERT_EQ(sp.true_weights.size(), static_cast<size_t>(recipe.data.features));

  io::Checkpoint ck = io::load_checkpoint(run + "/checkpoints/last.safetensors");
  const auto& w = ck.tensors.at("fc1.weight");
  const auto& b = ck.tensors.at("fc1.bias");
  ASSERT_EQ(w.data.size(), sp.true_weights.size());
  for (size_t i = 0; i < w.data.size(); ++i)
    EXPECT_NEAR(w.data[i], sp.true_weights[i], 1e-2) << "weight " << i;
  EXPECT_NEAR(b.data[0], sp.true_bias, 1e-2);
}

// Same seed and threads give the same bits; another seed gives other weights.
TEST(Training, SameSeedSameThreadsGiveIdenticalWeights) {
  TempDir dir("det");
  auto train = [&](const std::string& out, int seed) {
    CliResult r = run_cli(
        "train -q --recipe " + recipe_path("mlp.toml") + " --out " + dir.file(out) +
        " --set data.limit_train=3000 --set data.limit_test=500" +
        " --set train.epochs=2 --set train.threads=2 --set train.seed=" + std::to_string(seed));
    EXPECT_EQ(r.code, 0) << r.output;
    return io::load_checkpoint(dir.file(out) + "/checkpoints/last.safetensors");
  };
  SCULPT_REQUIRE(have_fashion(),
                 "Fashion-MNIST not installed (scripts/deps.sh installs dataset-fashion-mnist)");
  io::Checkpoint a = train("a", 7), b = train("b", 7), c = train("c", 8);
  for (const char* name : {"fc1.weight", "fc3.bias", "opt.momentum.fc2.weight"}) {
    EXPECT_EQ(a.tensors.at(name).data, b.tensors.at(name).data) << name;
    EXPECT_NE(a.tensors.at(name).data, c.tensors.at(name).data) << name;
  }
}

TEST(Training, ListShowsEveryTableAndRegistry) {
  CliResult r = run_cli("list");
  ASSERT_EQ(r.code, 0) << r.output;
  for (const char* s : {"optim.lr", "train.batch_size", "data.val_fraction", "sgd", "conv2d",
                        "cross-entropy", "lenet5"})
    EXPECT_NE(r.output.find(s), std::string::npos) << s;
}

}  // namespace
}  // namespace sculpt::testing

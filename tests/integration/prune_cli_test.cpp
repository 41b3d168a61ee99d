// Pruning end to end on Fashion-MNIST (a few thousand samples): gradual pruning during
// `sculpt train` hits its target and logs it; `sculpt prune` prunes, fine-tunes and writes a run
// that `sculpt eval` reproduces; surgery gives a smaller model with the same accuracy as the
// masked one; `sculpt prune sensitivity` writes its table; bad input is one clear error. And a
// character LSTM: hidden units removed with surgery, N:M on its gate matrices.
#include <fmt/format.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <regex>

#include "cli_harness.h"
#include "skip.h"

namespace sculpt::testing {
namespace {

nlohmann::json read_json(const std::string& path) {
  std::ifstream f(path);
  return nlohmann::json::parse(f);
}

// "accuracy: 85.43%" of `sculpt eval`, as a fraction.
double eval_accuracy(const std::string& run) {
  const CliResult r = run_cli("eval --model " + run);
  EXPECT_EQ(r.code, 0) << r.output;
  std::smatch m;
  if (!std::regex_search(r.output, m, std::regex("accuracy: ([0-9.]+)%"))) return -1.0;
  return std::stod(m[1]) / 100.0;
}

// A dense MLP trained for 2 epochs, shared by the tests of this file.
class PruneCli : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    if (!have_fashion()) return;
    dir_ = new TempDir("prune");
    const CliResult r = run_cli("train --recipe " + recipe_path("mlp.toml") + " --out " + dense() +
                                kSmallFashion + " --set train.epochs=2");
    ASSERT_EQ(r.code, 0) << r.output;
  }
  static void TearDownTestSuite() {
    delete dir_;
    dir_ = nullptr;
  }
  void SetUp() override {
    SCULPT_REQUIRE(
        have_fashion(),
        "Fashion-MNIST is not installed (scripts/deps.sh installs dataset-fashion-mnist)");
  }
  static std::string dense() { return dir_->file("dense"); }
  static std::string out(const std::string& name) { return dir_->file(name); }
  static TempDir* dir_;
};
TempDir* PruneCli::dir_ = nullptr;

TEST_F(PruneCli, GradualPruningDuringTrainingHitsItsTargetAndLogsIt) {
  const std::string run = out("gradual");
  const CliResult r = run_cli(
      "train --recipe " + recipe_path("prune-gradual.toml") + " --out " + run + kSmallFashion +
      " --set train.epochs=3 --set prune.unit=epoch --set prune.start=0 --set prune.end=2 "
      "--set prune.every=10 --set output.progress=plain");
  ASSERT_EQ(r.code, 0) << r.output;
  EXPECT_NE(r.output.find("prune: gradual magnitude (unstructured, global) to 95%"),
            std::string::npos)
      << r.output;
  EXPECT_NE(r.output.find("pruned to 95.0% sparsity"), std::string::npos) << r.output;
  double last = 0.0;
  int prunes = 0;
  std::vector<double> epoch_sparsity;
  for (const nlohmann::json& j : read_metrics(run)) {
    if (j["event"] == "prune") {
      const double s = j["sparsity"];
      EXPECT_GE(s, last) << "masks only grow";
      last = s;
      ++prunes;
    }
    if (j["event"] == "epoch") epoch_sparsity.push_back(j["sparsity"]);
  }
  // 40 steps of 128 per epoch: updates at steps 0 (none: no step done), 10, 20, ..., 80.
  EXPECT_GE(prunes, 7);
  EXPECT_NEAR(last, 0.95, 1e-4);
  ASSERT_EQ(epoch_sparsity.size(), 3u);
  EXPECT_LT(epoch_sparsity[0], 0.95);
  EXPECT_NEAR(epoch_sparsity[2], 0.95, 1e-4);
  const nlohmann::json end = read_metrics(run).back();
  EXPECT_NEAR(eval_accuracy(run), end["test_acc"].get<double>(), 1e-4);
}

// A ramp that ends at two thirds of the run (prune.end = 0), or one given in fractions of the
// run (prune.unit = "run"), would move if train.epochs changed.
TEST_F(PruneCli, ResumeCannotStretchARampThatSpansTheRun) {
  const std::string run = out("span");
  const CliResult r = run_cli("train --recipe " + recipe_path("prune-gradual.toml") + " --out " +
                              run + kSmallFashion +
                              " --set train.epochs=2 --set prune.unit=epoch "
                              "--set prune.start=0 --set prune.end=0 --set schedule.name=constant "
                              "--set schedule.unit=epoch --set schedule.warmup=0");
  ASSERT_EQ(r.code, 0) << r.output;
  const CliResult more = run_cli("train --resume " + run + " --set train.epochs=3");
  EXPECT_EQ(more.code, 2) << more.output;
  EXPECT_NE(more.output.find("the pruning ramp ends at two thirds of the run"), std::string::npos)
      << more.output;

  const std::string fractions = out("span-fractions");
  const CliResult f = run_cli("train --recipe " + recipe_path("prune-gradual.toml") + " --out " +
                              fractions + kSmallFashion +
                              " --set train.epochs=2 --set schedule.name=constant"
                              " --set schedule.unit=epoch --set schedule.warmup=0");
  ASSERT_EQ(f.code, 0) << f.output;
  const CliResult longer = run_cli("train --resume " + fractions + " --set train.epochs=3");
  EXPECT_EQ(longer.code, 2) << longer.output;
  EXPECT_NE(longer.output.find("fractions of the run (prune.unit = \"run\")"), std::string::npos)
      << longer.output;
}

TEST_F(PruneCli, OneShotPruneWritesARunThatEvalReproduces) {
  const std::string run = out("p80");
  const CliResult r = run_cli("prune --checkpoint " + dense() +
                              " --sparsity 0.8 --finetune-epochs 1 --no-surgery --out " + run);
  ASSERT_EQ(r.code, 0) << r.output;
  const nlohmann::json j = read_json(run + "/prune.json");
  EXPECT_NEAR(j["pruned"]["sparsity"].get<double>(), 0.8, 1e-5);
  EXPECT_EQ(j["pruned"]["params"], j["dense"]["params"]);
  EXPECT_NEAR(eval_accuracy(run), j["pruned"]["test_acc"].get<double>(), 1e-6);
  EXPECT_TRUE(std::filesystem::exists(run + "/prune.txt"));
  EXPECT_NE(r.output.find("FLOPs kept"), std::string::npos) << r.output;
}

TEST_F(PruneCli, SurgeryShrinksTheModelAndKeepsItsOutputs) {
  // Half the neurons of each hidden layer, no fine-tuning: with and without surgery the
  // predictions must be the same; surgery leaves 784x150 + 150x50 + 50x10 weights + biases.
  const std::string args = " --granularity neuron --scope layer --sparsity 0.5 --finetune-epochs 0";
  const CliResult masked =
      run_cli("prune --checkpoint " + dense() + args + " --no-surgery --out " + out("nm"));
  ASSERT_EQ(masked.code, 0) << masked.output;
  const CliResult cut = run_cli("prune --checkpoint " + dense() + args + " --out " + out("ns"));
  ASSERT_EQ(cut.code, 0) << cut.output;
  EXPECT_NE(cut.output.find("surgery: fc1 300 -> 150 units"), std::string::npos) << cut.output;
  EXPECT_NE(cut.output.find("surgery: fc2 100 -> 50 units"), std::string::npos) << cut.output;
  const nlohmann::json a = read_json(out("nm") + "/prune.json");
  const nlohmann::json b = read_json(out("ns") + "/prune.json");
  EXPECT_EQ(b["pruned"]["params"].get<int64_t>(), 784 * 150 + 150 + 150 * 50 + 50 + 50 * 10 + 10);
  EXPECT_EQ(a["pruned"]["test_acc"], b["pruned"]["test_acc"]);
  EXPECT_NEAR(eval_accuracy(out("ns")), b["pruned"]["test_acc"].get<double>(), 1e-6);
}

TEST_F(PruneCli, SensitivityWritesOneRowPerLayerAndSparsity) {
  const std::string where = out("sens");
  const CliResult r = run_cli("prune sensitivity --checkpoint " + dense() +
                              " --sparsities 0,0.5,0.99 --out " + where);
  ASSERT_EQ(r.code, 0) << r.output;
  std::ifstream f(where + "/sensitivity.csv");
  std::string line;
  std::getline(f, line);
  EXPECT_EQ(line, "layer,sparsity,val_acc,val_loss");
  std::vector<std::string> rows;
  while (std::getline(f, line)) rows.push_back(line);
  ASSERT_EQ(rows.size(), 9u);
  // Unpruned, every layer gives the dense accuracy; 99% of fc1 costs a lot.
  const auto acc = [](const std::string& row) {
    return std::stod(row.substr(row.find(',', row.find(',') + 1) + 1));
  };
  EXPECT_EQ(acc(rows[0]), acc(rows[3]));
  EXPECT_EQ(acc(rows[0]), acc(rows[6]));
  EXPECT_LT(acc(rows[2]), acc(rows[0]) - 0.05);
  EXPECT_TRUE(std::filesystem::exists(where + "/sensitivity.svg"));
}

// A character model of two stacked LSTMs: hidden units come out with their four gate rows,
// surgery keeps the predictions, N:M reaches the gate matrices, the sensitivity sweeps each
// recurrent layer once. No Fashion-MNIST needed.
TEST(PruneText, HiddenUnitsOfStackedLstmsGoWithSurgeryAndNmReachesTheGates) {
  TempDir dir("prune-text");
  std::string text;
  for (int i = 0; i < 200; ++i) text += "a stitch in time saves nine. ";
  const std::string data = dir.write("text.txt", text);
  const std::string recipe = dir.write("r.toml", R"([data]
source = "text"
steps = 16
[[model.layers]]
type = "embedding"
dim = 8
[[model.layers]]
type = "lstm"
name = "lstm1"
hidden = 24
[[model.layers]]
type = "lstm"
name = "lstm2"
hidden = 16
[[model.layers]]
type = "linear"
name = "out"
out = 0
[optim]
name = "adam"
lr = 0.02
[train]
epochs = 2
batch_size = 16
)");
  const std::string dense = dir.file("dense");
  const CliResult t =
      run_cli("train -q --recipe " + recipe + " --set data.path=" + data + " --out " + dense);
  ASSERT_EQ(t.code, 0) << t.output;
  const std::string args = " --granularity neuron --scope layer --sparsity 0.5 --finetune-epochs 0";
  const CliResult masked =
      run_cli("prune --checkpoint " + dense + args + " --no-surgery --out " + dir.file("nm"));
  ASSERT_EQ(masked.code, 0) << masked.output;
  const CliResult cut = run_cli("prune --checkpoint " + dense + args + " --out " + dir.file("ns"));
  ASSERT_EQ(cut.code, 0) << cut.output;
  EXPECT_NE(cut.output.find("surgery: lstm1 24 -> 12 units"), std::string::npos) << cut.output;
  EXPECT_NE(cut.output.find("surgery: lstm2 16 -> 8 units"), std::string::npos) << cut.output;
  const nlohmann::json a = read_json(dir.file("nm") + "/prune.json");
  const nlohmann::json b = read_json(dir.file("ns") + "/prune.json");
  // embed 11x8; lstm1 4*12 rows of 8 + 12 inputs and two biases; lstm2 4*8 rows of 12 + 8;
  // out v rows of 8 (v = 12 characters: 10 letters, the space and '.').
  const int64_t v = 12;
  EXPECT_EQ(b["pruned"]["params"].get<int64_t>(),
            v * 8 + 48 * (8 + 12 + 2) + 32 * (12 + 8 + 2) + v * 8 + v);
  EXPECT_EQ(a["pruned"]["test_acc"], b["pruned"]["test_acc"]);
  // eval prints two decimals of a percent
  EXPECT_NEAR(eval_accuracy(dir.file("ns")), b["pruned"]["test_acc"].get<double>(), 5e-5);

  const CliResult nm = run_cli("prune --checkpoint " + dense +
                               " --granularity n:m --finetune-epochs 0 --out " + dir.file("24"));
  ASSERT_EQ(nm.code, 0) << nm.output;
  EXPECT_NEAR(read_json(dir.file("24") + "/prune.json")["pruned"]["sparsity"].get<double>(), 0.5,
              1e-9);
  EXPECT_NE(nm.output.find("lstm2.weight_hh"), std::string::npos) << nm.output;

  const CliResult sens = run_cli("prune sensitivity --checkpoint " + dense +
                                 " --sparsities 0,0.9 --out " + dir.file("sens"));
  ASSERT_EQ(sens.code, 0) << sens.output;
  std::ifstream f(dir.file("sens") + "/sensitivity.csv");
  std::string line, layers;
  std::getline(f, line);
  while (std::getline(f, line))  // layer,sparsity,...: the layers of the rows at sparsity 0
    if (line.substr(line.find(',') + 1).starts_with("0,"))
      layers += line.substr(0, line.find(',')) + " ";
  EXPECT_EQ(layers, "lstm1 lstm2 out ");
}

TEST_F(PruneCli, BadInputIsOneClearError) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"--sparsity 1.0", "--sparsity must be in [0, 1), got 1"},
      {"--sparsity -0.1", "--sparsity must be in [0, 1), got -0.1"},
      {"--granularity n:m --n 1 --m 3", "m = 3 does not divide the 784 inputs per unit of 'fc1'"},
      {"--sparsity 0.5 --exclude fc9",
       "unknown layer 'fc9' (hint: prunable layers: fc1, fc2, fc3)"},
      {"--max-drop 1 --set data.val_fraction=0",
       "--max-drop chooses the sparsity on the validation split"},
      {"--sparsity 0.5 --threshold 0.1",
       "give exactly one of --sparsity, --threshold and --max-drop"},
      {"--sparsity 0.5 --criterion magnitud", "did you mean 'magnitude'?"},
  };
  for (const auto& [args, message] : cases) {
    SCOPED_TRACE(args);
    const std::string run = out("bad");
    const CliResult r = run_cli("prune --checkpoint " + dense() + " " + args + " --out " + run);
    EXPECT_EQ(r.code, 2) << r.output;
    EXPECT_NE(r.output.find(message), std::string::npos) << r.output;
    EXPECT_FALSE(std::filesystem::exists(run));
  }
  const CliResult recipe =
      run_cli("train --recipe " + recipe_path("prune-gradual.toml") + " --out " + out("badr") +
              kSmallFashion + " --set prune.sparsity=1.5");
  EXPECT_EQ(recipe.code, 2) << recipe.output;
  EXPECT_NE(recipe.output.find("prune.sparsity must be in [0, 1), got 1.5"), std::string::npos)
      << recipe.output;
}

}  // namespace
}  // namespace sculpt::testing

// Clipping through the real CLI: a rate that diverges without clipping trains with global-norm
// clipping (both outcomes asserted), for the clip demo CNN and for a character LSTM, and the seed
// CNN recipe (SGD momentum + clip_grad_norm) logs its clip rate per epoch and per step.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "integration/cli_harness.h"
#include "skip.h"

namespace sculpt::testing {
namespace {

std::vector<nlohmann::json> events(const std::string& run, const std::string& event) {
  std::vector<nlohmann::json> out;
  for (auto& j : read_metrics(run))
    if (j["event"] == event) out.push_back(std::move(j));
  return out;
}

const std::string kClipDemoData = " --set data.limit_train=6000 --set data.limit_test=2000";

// A character LSTM on a slice of fortunes with plain SGD at lr 30: without clipping the loss
// blows up (measured 19.5 nats per character on the test part after one epoch, chance is about
// 4.5), with the global norm clipped to 0.5 it learns (3.1).
TEST(Clipping, ACharacterLstmDivergesWithoutClippingAndLearnsWithIt) {
  SCULPT_REQUIRE(have_fortunes(), "fortunes not installed (scripts/deps.sh installs it)");
  TempDir dir("cliplstm");
  const std::string recipe = dir.write("lstm.toml", R"([data]
source = "text"
path = "/usr/share/games/fortunes"
steps = 100
limit_train = 600
limit_test = 300
[[model.layers]]
type = "embedding"
dim = 16
[[model.layers]]
type = "lstm"
hidden = 64
[[model.layers]]
type = "linear"
out = 0
[optim]
name = "sgd"
lr = 30
[clip]
name = "global-norm"
max_norm = 0.5
[train]
epochs = 1
batch_size = 32
nonfinite = "skip"
)");
  const std::string base = "train -q --recipe " + recipe;
  CliResult on = run_cli(base + " --out " + dir.file("on"));
  ASSERT_EQ(on.code, 0) << on.output;
  CliResult off = run_cli(base + " --set clip.name=none --out " + dir.file("off"));
  ASSERT_EQ(off.code, 0) << off.output;
  const auto with = events(dir.file("on"), "end"), without = events(dir.file("off"), "end");
  ASSERT_EQ(with.size(), 1u);
  ASSERT_EQ(without.size(), 1u);
  EXPECT_LT(with[0]["test_loss"].get<double>(), 3.5) << on.output;
  EXPECT_GT(without[0]["test_loss"].get<double>(), 2 * with[0]["test_loss"].get<double>())
      << off.output;
  // The clipped run clips often (32% of its steps, measured): that is what keeps it stable.
  EXPECT_GT(events(dir.file("on"), "epoch").back()["clip_rate"].get<double>(), 0.1);
}

TEST(Clipping, TheDemoDivergesWithoutClippingAndTrainsWithIt) {
  SCULPT_REQUIRE(have_fashion(),
                 "Fashion-MNIST not installed (scripts/deps.sh installs dataset-fashion-mnist)");
  TempDir dir("clipdemo");
  const std::string base = "train -q --recipe " + recipe_path("clip-demo.toml") + kClipDemoData +
                           " --set train.epochs=2";
  CliResult off = run_cli(base + " --set clip.name=none --out " + dir.file("off"));
  EXPECT_EQ(off.code, 4) << off.output;  // numeric error
  EXPECT_NE(off.output.find("non-finite"), std::string::npos) << off.output;
  EXPECT_NE(off.output.find("enable clipping"), std::string::npos) << off.output;

  CliResult on = run_cli(base + " --out " + dir.file("on"));
  ASSERT_EQ(on.code, 0) << on.output;
  const auto epochs = events(dir.file("on"), "epoch");
  ASSERT_EQ(epochs.size(), 2u);
  EXPECT_GT(epochs.back()["test_acc"].get<double>(), 0.6);
  for (const auto& e : epochs) {
    EXPECT_GT(e["clip_rate"].get<double>(), 0.0);
    EXPECT_LE(e["clip_rate"].get<double>(), 1.0);
  }
}

TEST(Clipping, SeedCnnRecipeLogsTheClipRate) {
  SCULPT_REQUIRE(have_fashion(),
                 "Fashion-MNIST not installed (scripts/deps.sh installs dataset-fashion-mnist)");
  TempDir dir("clipcnn");
  CliResult r = run_cli("train --recipe " + recipe_path("cnn.toml") +
                        " --set data.limit_train=2000 --set data.limit_test=500 --set "
                        "train.epochs=1 --set output.progress=plain --out " +
                        dir.file("run"));
  ASSERT_EQ(r.code, 0) << r.output;
  EXPECT_NE(r.output.find("clipped "), std::string::npos) << r.output;  // the epoch line
  const auto epochs = events(dir.file("run"), "epoch");
  ASSERT_EQ(epochs.size(), 1u);
  EXPECT_TRUE(epochs[0].contains("clip_rate"));
  EXPECT_TRUE(epochs[0].contains("grad_norm.conv1.weight"));
  const auto steps = events(dir.file("run"), "step");
  ASSERT_EQ(steps.size(), 15u);  // every step is logged when clipping: ceil(1800 / 128)
  for (const auto& s : steps) {
    const double before = s["grad_norm"].get<double>(), after = s["clip_norm"].get<double>();
    EXPECT_LE(after, 5.0 * (1 + 1e-5));
    if (s["clipped"].get<int64_t>() == 0) EXPECT_NEAR(after, before, 1e-9 * before);
  }
}

}  // namespace
}  // namespace sculpt::testing

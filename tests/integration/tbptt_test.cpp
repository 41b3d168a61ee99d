// Truncated backpropagation through time through the real CLI (train.tbptt): on a text that
// repeats a 23-character pattern, read in windows of 8, a window's first characters are only
// predictable from what came before it. Carrying the state from window to window learns the
// pattern; independent windows cannot, with the same budget. And the recipe checks.
#include <gtest/gtest.h>

#include <string>

#include "integration/cli_harness.h"

namespace sculpt::testing {
namespace {

// The last epoch's `key` ("loss": training, "val_loss").
double last_epoch(const std::string& run, const char* key) {
  double loss = -1.0;
  for (const auto& j : read_metrics(run))
    if (j["event"] == "epoch") loss = j[key].get<double>();
  return loss;
}

// Measured (seeds 1-4): the training loss of the third epoch is 0.013-0.019 nats per character
// with tbptt and 0.239-0.243 without; windows start at every phase of the pattern (23 and 8
// are coprime), and about two characters of context fix the phase. Validation reads its
// windows as streams too: 0.072-0.089 with tbptt (each of the 16 streams' first window starts
// from zero), 0.233-0.240 without. One thread: each run takes a quarter of a second.
TEST(Tbptt, CarryingTheStateLearnsWhatIndependentWindowsCannot) {
  TempDir dir("tbptt");
  std::string text;
  for (int i = 0; i < 400; ++i) text += "ccadbabacdbdababdcbdbab";
  const std::string path = dir.write("periodic.txt", text);
  const std::string recipe = dir.write("r.toml", R"([data]
source = "text"
path = ")" + path + R"("
steps = 8
val_fraction = 0.1
test_fraction = 0.1
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
lr = 0.01
[train]
epochs = 3
batch_size = 16
seed = 1
threads = 1
tbptt = true
[output]
progress = "plain"
)");
  const CliResult on = run_cli("train --recipe " + recipe + " --out " + dir.file("on"));
  ASSERT_EQ(on.code, 0) << on.output;
  EXPECT_NE(on.output.find("tbptt: 16 streams of 57 consecutive windows"), std::string::npos)
      << on.output;
  const CliResult off =
      run_cli("train --recipe " + recipe + " --set train.tbptt=false --out " + dir.file("off"));
  ASSERT_EQ(off.code, 0) << off.output;
  EXPECT_EQ(off.output.find("tbptt:"), std::string::npos) << off.output;
  const double with = last_epoch(dir.file("on"), "loss");
  const double without = last_epoch(dir.file("off"), "loss");
  EXPECT_LT(with, 0.08) << on.output;
  EXPECT_GT(without, with + 0.12) << off.output;
  const double val_with = last_epoch(dir.file("on"), "val_loss");
  EXPECT_LT(val_with, 0.15) << on.output;
  EXPECT_GT(last_epoch(dir.file("off"), "val_loss"), val_with + 0.08) << off.output;
}

TEST(Tbptt, ARecipeWithoutTextOrWithOverlappingWindowsIsRefused) {
  TempDir dir("tbpttbad");
  CliResult r = run_cli("train --recipe " + recipe_path("mlp.toml") +
                        " --set train.tbptt=true --out " + dir.file("run"));
  EXPECT_EQ(r.code, 2) << r.output;
  EXPECT_NE(r.output.find("train.tbptt needs text data"), std::string::npos) << r.output;
  r = run_cli("train --recipe " + recipe_path("char-lstm.toml") +
              " --set train.tbptt=true --set data.stride=50 --out " + dir.file("run"));
  EXPECT_EQ(r.code, 2) << r.output;
  EXPECT_NE(r.output.find("set data.stride = 0"), std::string::npos) << r.output;
}

}  // namespace
}  // namespace sculpt::testing

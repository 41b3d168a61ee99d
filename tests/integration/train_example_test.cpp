// examples/train_mlp.cpp, the README's C++ training example, run as a user runs it: it trains
// and prunes through the library's Run, writes the run directory and report, exports the model
// and runs the export on the test split with the accuracy training reported.
#include <gtest/gtest.h>

#include <filesystem>
#include <string>

#include "cli_harness.h"
#include "skip.h"

namespace sculpt::testing {
namespace {

TEST(TrainExample, TrainsPrunesExportsAndTheExportScoresAsTrainingDid) {
  SCULPT_REQUIRE(have_fashion(),
                 "Fashion-MNIST is not installed (scripts/deps.sh installs dataset-fashion-mnist)");
  TempDir dir("train-example");
  const std::string run = dir.file("run");
  const CliResult r = run_cli_binary(
      SCULPT_TRAIN_EXAMPLE, recipe_path("prune-gradual.toml") + " " + run +
                                " data.limit_train=5000 data.limit_test=2000 train.epochs=2");
  ASSERT_EQ(r.code, 0) << r.output;
  for (const char* f : {"recipe.toml", "metrics.jsonl", "report.html", "model.sculpt",
                        "checkpoints/last.safetensors"})
    EXPECT_TRUE(std::filesystem::exists(run + "/" + f)) << f << "\n" << r.output;
  EXPECT_NE(r.output.find("epoch 2:"), std::string::npos) << r.output;
  const double trained = percent_after(r.output, "test accuracy");
  const double exported = percent_after(r.output, "model.sculpt:");
  EXPECT_GT(trained, 60.0) << r.output;
  // The same model: only the round trip of the inputs through their standardisation differs.
  EXPECT_NEAR(exported, trained, 0.25) << r.output;
  // prune-gradual.toml's ramp is given in fractions of the run: it is done by the last epoch.
  EXPECT_GT(percent_after(r.output, "epoch 2:[^\\n]*sparsity"), 90.0) << r.output;
}

}  // namespace
}  // namespace sculpt::testing

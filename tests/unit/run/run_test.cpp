// The library's Run, as a C++ program uses it: a run directory with recipe.toml, metrics.jsonl
// and checkpoints; a stop requested from a hook saves a checkpoint, and resuming from the
// directory ends where an uninterrupted run ends, bit for bit.
#include "run/run.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "core/error.h"
#include "io/checkpoint.h"
#include "run/run_dir.h"
#include "unit/temp_dir_test.h"
#include "unit/train/resume_fixtures.h"

namespace sculpt::run {
namespace {

class RunTest : public testing::TempDirTest {
 protected:
  RecipeConfig recipe() const {
    // Adam and dropout: the optimizer state and the dropout stream must resume too.
    return parse_recipe(train::blobs_recipe(train::kAdam, train::kDropoutModel),
                        path("recipe.toml"));
  }
  static std::string text(const std::string& file) {
    std::ifstream in(file);
    return {std::istreambuf_iterator<char>(in), {}};
  }
};

// A checkpoint taken at an epoch's last step (checkpoint_every) comes before that epoch's record:
// a kill between the two must drop the record, which the resumed run writes again.
TEST_F(RunTest, TrimmingKeepsWhatTheCheckpointCoversAndNoMore) {
  const std::string m = path("metrics.jsonl");
  std::ofstream(m) << R"({"event":"step","epoch":1,"step":5}
{"event":"epoch","epoch":1,"step":5}
{"event":"step","epoch":2,"step":10}
{"event":"epoch","epoch":2,"step":10}
{"event":"step","epoch":3,"step":1)";
  // After step 10, inside epoch 2 (not closed): its record goes, and the torn line.
  EXPECT_EQ(trim_metrics(m, 1, 10, true), 2);
  EXPECT_EQ(text(m),
            "{\"event\":\"step\",\"epoch\":1,\"step\":5}\n"
            "{\"event\":\"epoch\",\"epoch\":1,\"step\":5}\n"
            "{\"event\":\"step\",\"epoch\":2,\"step\":10}\n");
  std::ofstream(m, std::ios::app) << R"({"event":"epoch","epoch":2,"step":10}
{"event":"step","epoch":3,"step":15}
{"event":"step","epoch":3,"step":9}
{"event":"end","epoch":3,"step":15}
)";
  // After epoch 2 closed at step 10, epoch 3 not begun: its record stays, the later ones go,
  // epoch 3's even with a step the checkpoint covers.
  EXPECT_EQ(trim_metrics(m, 2, 10, false), 3);
  EXPECT_NE(text(m).find("{\"event\":\"epoch\",\"epoch\":2,\"step\":10}"), std::string::npos);
  EXPECT_EQ(text(m).find("\"epoch\":3"), std::string::npos);
}

TEST_F(RunTest, AStoppedRunResumedFromItsDirectoryEqualsAnUninterruptedOne) {
  auto whole = Run::start(recipe(), path("whole"));
  const Outcome done = whole->train();
  ASSERT_FALSE(done.stopped);
  EXPECT_GT(done.samples_per_s, 0.0);
  for (const char* f : {"recipe.toml", "metrics.jsonl", "checkpoints/last.safetensors"})
    EXPECT_TRUE(std::filesystem::exists(path("whole/") + f)) << f;
  EXPECT_NE(text(path("whole/metrics.jsonl")).find("\"event\":\"end\""), std::string::npos);

  auto first = Run::start(recipe(), path("split"));
  train::TrainHooks hooks;
  hooks.on_step = [&](const train::StepEvent& e) {
    if (e.step == 5) first->request_stop(15);
  };
  const Outcome stopped = first->train(hooks);
  ASSERT_TRUE(stopped.stopped);
  EXPECT_EQ(stopped.stop_code, 15);
  EXPECT_EQ(first->trainer().step(), 5);

  auto second = Run::resume(path("split"));
  ASSERT_FALSE(second->complete());
  ASSERT_TRUE(second->resumed().has_value());
  EXPECT_EQ(second->resumed()->step, 5);
  ASSERT_FALSE(second->train().stopped);
  train::expect_same_checkpoint(io::load_checkpoint(path("whole/checkpoints/last.safetensors")),
                                io::load_checkpoint(path("split/checkpoints/last.safetensors")));

  // Nothing is left to train: complete, and train() changes nothing.
  auto third = Run::resume(path("split"));
  EXPECT_TRUE(third->complete());
  EXPECT_EQ(third->resumed()->epoch, 2);
}

TEST_F(RunTest, BatchNormsRunningStatisticsResumeExactlyAndNeverTrain) {
  const RecipeConfig norm =
      parse_recipe(train::blobs_recipe(train::kNesterov, train::kNormModel), path("recipe.toml"));
  auto whole = Run::start(norm, path("whole"));
  ASSERT_FALSE(whole->train().stopped);
  auto first = Run::start(norm, path("split"));
  train::TrainHooks hooks;
  hooks.on_step = [&](const train::StepEvent& e) {
    if (e.step == 7) first->request_stop(15);
  };
  ASSERT_TRUE(first->train(hooks).stopped);
  ASSERT_FALSE(Run::resume(path("split"))->train().stopped);
  const io::Checkpoint ck = io::load_checkpoint(path("whole/checkpoints/last.safetensors"));
  train::expect_same_checkpoint(ck,
                                io::load_checkpoint(path("split/checkpoints/last.safetensors")));
  // The statistics moved from their start (mean 0, variance 1), and no optimizer state was kept
  // for them: they are buffers, not parameters.
  const io::StoredTensor* var = ck.find("bn1.running_var");
  ASSERT_NE(var, nullptr);
  EXPECT_NE(var->data[0], 1.0f);
  for (const auto& [name, t] : ck.tensors) {
    if (name.find("running_") == std::string::npos || name.rfind("opt.", 0) != 0) continue;
    for (float v : t.data) ASSERT_EQ(v, 0.0f) << name;
  }
}

TEST_F(RunTest, AResumeMayChangeOnlyTheLengthAndTheOutput) {
  auto r = Run::start(recipe(), path("run"));
  r->train();
  EXPECT_THROW(Run::resume(path("run"), {"optim.lr=0.5"}), ConfigError);
  auto longer = Run::resume(path("run"), {"train.epochs=3"});
  EXPECT_FALSE(longer->complete());
  EXPECT_EQ(longer->train().last.epoch, 3);
}

}  // namespace
}  // namespace sculpt::run

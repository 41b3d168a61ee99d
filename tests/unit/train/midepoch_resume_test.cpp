// Checkpoints taken inside an epoch (from the step hook, as `sculpt train` does every
// output.checkpoint_every steps and on SIGINT/SIGTERM): a trainer restored from one finishes
// the run with the same bits and the same epoch metrics as one that never stopped; the epoch's
// position and counts travel as "epoch_progress", which is parsed strictly.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "core/error.h"
#include "io/checkpoint.h"
#include "train/checkpoint.h"
#include "train/trainer.h"
#include "unit/temp_dir_test.h"
#include "unit/train/resume_fixtures.h"

namespace sculpt::train {
namespace {

namespace fs = std::filesystem;

struct Interrupt {};  // thrown from the step hook once the checkpoint is written

class MidEpochResume : public sculpt::testing::TempDirTest {
 protected:
  // The straight run against one stopped after step `at` (checkpoint from the hook) and resumed
  // in a new trainer: same final checkpoint bits, same epoch events.
  void check(const std::string& recipe, int64_t at) {
    SCOPED_TRACE("stopped after step " + std::to_string(at));
    std::vector<EpochEvent> straight_events, resumed_events;
    const auto keep = [](std::vector<EpochEvent>& v) {
      return [&v](const EpochEvent& e) { v.push_back(e); };
    };
    Trainer straight(parse_recipe(recipe, "test"));
    straight.run({.on_step = {}, .on_epoch = keep(straight_events)});
    straight.save_checkpoint(path("straight.safetensors"));
    {
      Trainer first(parse_recipe(recipe, "test"));
      const auto stop = [&](const StepEvent& e) {
        if (e.step != at) return;
        first.save_checkpoint(path("mid.safetensors"));
        throw Interrupt{};
      };
      EXPECT_THROW(first.run({.on_step = stop, .on_epoch = keep(resumed_events)}), Interrupt);
    }
    const io::Checkpoint mid = io::load_checkpoint(path("mid.safetensors"));
    Trainer resumed(parse_recipe(recipe, "test"));
    resumed.restore(mid, "mid");
    resumed.run({.on_step = {}, .on_epoch = keep(resumed_events)});
    resumed.save_checkpoint(path("resumed.safetensors"));
    expect_same_checkpoint(io::load_checkpoint(path("straight.safetensors")),
                           io::load_checkpoint(path("resumed.safetensors")));
    ASSERT_EQ(straight_events.size(), resumed_events.size());
    for (size_t i = 0; i < straight_events.size(); ++i) {
      const EpochEvent &a = straight_events[i], &b = resumed_events[i];
      SCOPED_TRACE("epoch " + std::to_string(a.epoch));
      EXPECT_EQ(a.epoch, b.epoch);
      EXPECT_EQ(a.step, b.step);
      EXPECT_EQ(a.train_loss, b.train_loss);
      EXPECT_EQ(a.train_acc, b.train_acc);
      EXPECT_EQ(a.val.loss, b.val.loss);
      EXPECT_EQ(a.test.accuracy, b.test.accuracy);
      EXPECT_EQ(a.steps, b.steps);
      EXPECT_EQ(a.clipped_steps, b.clipped_steps);
      EXPECT_EQ(a.grad_norm_mean, b.grad_norm_mean);
      EXPECT_EQ(a.grad_norm_max, b.grad_norm_max);
      EXPECT_EQ(a.tensor_grad_norms, b.tensor_grad_norms);
      EXPECT_EQ(a.sparsity, b.sparsity);
    }
  }
};

// 420 training samples in batches of 32: 14 steps per epoch. Stops inside epoch 1, at its last
// step (every batch consumed, the epoch not yet evaluated) and inside epoch 2.
TEST_F(MidEpochResume, SgdNesterovEqualsTheStraightRun) {
  for (int64_t at : {5, 14, 20}) check(blobs_recipe(kNesterov), at);
}

TEST_F(MidEpochResume, AdamWithDropoutEqualsTheStraightRun) {
  check(blobs_recipe(kAdam, kDropoutModel), 9);
}

// AutoClip's history and accumulation groups: the checkpoint falls between whole steps.
TEST_F(MidEpochResume, AutoClipWithAccumulationEqualsTheStraightRun) {
  std::string r = blobs_recipe(kNesterov) + "[clip]\nname = \"autoclip\"\npercentile = 50\n";
  r.replace(r.find("batch_size = 32"), 15, "batch_size = 16\naccumulate = 2");
  check(r, 11);
}

// Gradual pruning: masks update every 3 steps; the stop falls between two updates.
TEST_F(MidEpochResume, GradualPruningEqualsTheStraightRun) {
  check(blobs_recipe(kNesterov) +
            "[prune]\nwhen = \"gradual\"\ncriterion = \"magnitude\"\nsparsity = 0.8\nstart = 0\n"
            "end = 2\nevery = 3\n",
        19);
}

// A character LSTM on text: right predictions are counted per position, so a mid-epoch
// checkpoint holds more of them than samples, and the run still resumes exactly.
TEST_F(MidEpochResume, ACharacterLstmEqualsTheStraightRun) {
  std::string text;
  for (int i = 0; i < 120; ++i) text += i % 3 ? "a cat sat. " : "the dog ran! ";
  std::ofstream(path("text.txt")) << text;
  const std::string recipe = R"([data]
source = "text"
path = ")" + path("text.txt") +
                             R"("
steps = 16
[[model.layers]]
type = "embedding"
dim = 8
[[model.layers]]
type = "lstm"
hidden = 16
[[model.layers]]
type = "linear"
out = 0
[optim]
name = "adam"
lr = 0.01
[train]
epochs = 2
batch_size = 8
seed = 3
[output]
progress = "none"
)";
  for (int64_t at : {5, 12}) check(recipe, at);
}

// The same with train.tbptt and two recurrent layers: the state each carries into the next batch
// travels in the checkpoint ("carry.<layer>") and the resumed epoch starts from it.
TEST_F(MidEpochResume, ATbpttCharacterModelEqualsTheStraightRun) {
  std::string text;
  for (int i = 0; i < 150; ++i) text += i % 3 ? "a cat sat. " : "the dog ran! ";
  std::ofstream(path("text.txt")) << text;
  const std::string recipe = R"([data]
source = "text"
path = ")" + path("text.txt") +
                             R"("
steps = 12
[[model.layers]]
type = "embedding"
dim = 8
[[model.layers]]
type = "lstm"
hidden = 16
[[model.layers]]
type = "dropout"
p = 0.1
[[model.layers]]
type = "gru"
hidden = 12
[[model.layers]]
type = "linear"
out = 0
[optim]
name = "adam"
lr = 0.01
[train]
epochs = 2
batch_size = 8
seed = 3
tbptt = true
[output]
progress = "none"
)";
  for (int64_t at : {4, 12, 17}) check(recipe, at);  // 12 steps an epoch
}

TEST_F(MidEpochResume, APositionBeyondTheEpochIsRefused) {
  Trainer first(parse_recipe(blobs_recipe(kNesterov), "test"));
  EXPECT_THROW(first.run({.on_step =
                              [&](const StepEvent& e) {
                                if (e.step < 3) return;
                                first.save_checkpoint(path("mid.safetensors"));
                                throw Interrupt{};
                              },
                          .on_epoch = {}}),
               Interrupt);
  io::Checkpoint ck = io::load_checkpoint(path("mid.safetensors"));
  EpochProgress p = parse_epoch_progress(ck.metadata.at("epoch_progress")).value();
  EXPECT_EQ(p.batches, 3);
  EXPECT_EQ(p.steps_in_epoch, 3);
  EXPECT_EQ(p.samples, 96);
  EXPECT_EQ(ck.metadata.at("epoch"), "0");  // no epoch completed yet
  p.batches = 15;                           // an epoch has 14
  ck.metadata["epoch_progress"] = format_epoch_progress(p);
  Trainer other(parse_recipe(blobs_recipe(kNesterov), "test"));
  try {
    other.restore(ck, "mid");
    FAIL() << "accepted 15 batches of 14";
  } catch (const DataError& e) {
    EXPECT_NE(std::string(e.what()).find("15 batches of 14"), std::string::npos) << e.what();
  }
  EXPECT_EQ(other.step(), 0);  // nothing changed
}

TEST(EpochProgressText, RoundTripsExactlyAndMalformedTextIsRejected) {
  EpochProgress p;
  p.batches = 7;
  p.steps_in_epoch = 4;
  p.samples = 224;
  p.correct = 100;
  p.steps = 3;
  p.skipped = 1;
  p.clipped_steps = 2;
  p.sampled_steps = 1;
  p.skips_in_a_row = 1;
  p.loss_sum = 0.1 + 0.2;  // not exactly representable in decimal: hex keeps every bit
  p.grad_norm_sum = 1e-300;
  p.grad_norm_max = 3.5;
  p.seconds = 0.25;
  p.tensor_sums = {1.0 / 3.0, 0.0};
  const auto back = parse_epoch_progress(format_epoch_progress(p));
  ASSERT_TRUE(back.has_value());
  EXPECT_EQ(format_epoch_progress(*back), format_epoch_progress(p));
  EXPECT_EQ(back->loss_sum, p.loss_sum);
  EXPECT_EQ(back->tensor_sums, p.tensor_sums);
  const std::string good = format_epoch_progress(p);
  for (const std::string bad :
       {std::string(), std::string("7 4 224"), good + " x", good + "  ", "-" + good,
        std::string("7 4 224 100 3 1 2 1 1 nan 0x0p+0 0x0p+0 0x0p+0"),
        std::string("7 4 224 100 3 1 2 1 1 inf 0x0p+0 0x0p+0 0x0p+0"),
        std::string("0 0 0 0 0 0 0 0 0 0x0p+0 0x0p+0 0x0p+0 0x0p+0"),      // no step taken
        std::string("3 4 224 100 3 1 2 1 1 0x0p+0 0x0p+0 0x0p+0 0x0p+0"),  // steps > batches
        std::string("7 4 224 100 2 1 2 1 1 0x0p+0 0x0p+0 0x0p+0 0x0p+0"),  // 2 + 1 != 4
        std::string("7 4 224 -1 3 1 2 1 1 0x0p+0 0x0p+0 0x0p+0 0x0p+0")})  // correct < 0
    EXPECT_FALSE(parse_epoch_progress(bad).has_value()) << "accepted '" << bad << "'";
}

}  // namespace
}  // namespace sculpt::train

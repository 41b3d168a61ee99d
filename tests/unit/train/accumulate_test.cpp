// Gradient accumulation and the non-finite policy at the trainer level: N micro-batches of b/N
// make the same step as one batch of b; skipped steps stop the run after train.max_skips in a
// row, and non-finite weights are never written to a checkpoint.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cmath>
#include <filesystem>
#include <string>

#include "core/error.h"
#include "io/recipe.h"
#include "train/trainer.h"

namespace sculpt::train {
namespace {

// Two Gaussian blobs, 420 training samples (the last batch of 32 holds 4), no dropout.
std::string recipe(const std::string& train,
                   const std::string& optim = "lr = 0.1\nmomentum = 0.9") {
  return "[data]\nsource = \"synthetic-blobs\"\nsamples = 600\nfeatures = 8\nval_fraction = 0.1\n"
         "test_fraction = 0.2\n[model]\nname = \"binary-mlp\"\n[optim]\nname = \"sgd\"\n" +
         optim + "\n[train]\nepochs = 1\nloss = \"bce\"\nseed = 3\n" + train +
         "\n[output]\nprogress = \"none\"\n";
}

// The largest difference between two trainers' weights.
double max_weight_diff(const Trainer& a, const Trainer& b) {
  double d = 0;
  const auto& w = a.params().values();
  for (size_t i = 0; i < w.size(); ++i)
    d = std::max(d, double(std::fabs(w[i] - b.params().values()[i])));
  return d;
}

TEST(Accumulate, FourMicroBatchesOfEightAreOneBatchOf32) {
  Trainer whole(parse_recipe(recipe("batch_size = 32"), "whole"));
  Trainer micro(parse_recipe(recipe("batch_size = 8\naccumulate = 4"), "micro"));
  Trainer unaccumulated(parse_recipe(recipe("batch_size = 8"), "control"));
  ASSERT_EQ(whole.steps_per_epoch(), 14);
  ASSERT_EQ(micro.steps_per_epoch(), 14);  // 53 micro-batches: 13 groups of 4 and 1 of 1
  const EpochEvent a = whole.train_epoch({}), b = micro.train_epoch({});
  unaccumulated.train_epoch({});
  EXPECT_EQ(a.step, 14);
  EXPECT_EQ(b.step, 14);
  EXPECT_NEAR(a.train_loss, b.train_loss, 1e-6);
  EXPECT_EQ(a.train_acc, b.train_acc);
  EXPECT_LT(max_weight_diff(whole, micro), 2e-5);  // float rounding of the sums only
  // 53 steps of 8 are another run: the check can fail.
  EXPECT_GT(max_weight_diff(whole, unaccumulated), 1e-2);
}

// lr-find's steps (Trainer::train_steps) go through the same step_batches: with accumulate = 4
// a step is four micro-batches of 8, the same update as one batch of 32.
TEST(Accumulate, SideRunStepsHonourAccumulate) {
  Trainer whole(parse_recipe(recipe("batch_size = 32"), "whole"));
  Trainer micro(parse_recipe(recipe("batch_size = 8\naccumulate = 4"), "micro"));
  Trainer unaccumulated(parse_recipe(recipe("batch_size = 8"), "control"));
  const auto all = [](const StepResult&) { return true; };
  for (Trainer* t : {&whole, &micro, &unaccumulated})
    ASSERT_EQ(t->train_steps(20, t->schedule(), all), 20);  // past the epoch's 14 steps
  EXPECT_EQ(micro.step(), 20);
  EXPECT_LT(max_weight_diff(whole, micro), 2e-5);
  EXPECT_GT(max_weight_diff(whole, unaccumulated), 1e-2);
}

TEST(Accumulate, ZeroIsRejectedByName) {
  try {
    parse_recipe(recipe("accumulate = 0"), "r.toml");
    FAIL() << "no exception";
  } catch (const ConfigError& e) {
    EXPECT_NE(e.message().find("train.accumulate must be >= 1, got 0"), std::string::npos)
        << e.message();
  }
}

// An absurd rate overflows the weights at the first step; every step after is non-finite.
TEST(NonFinite, StopNamesTheStepAndWhetherTheLossWasNonFinite) {
  Trainer t(parse_recipe(recipe("batch_size = 32", "lr = 1e30"), "r"));
  try {
    t.train_epoch({});
    FAIL() << "no exception";
  } catch (const NumericError& e) {
    const std::string what = e.what();
    EXPECT_NE(what.find("step 1"), std::string::npos) << what;
    EXPECT_NE(what.find("the loss itself is non-finite"), std::string::npos) << what;
    EXPECT_NE(what.find("enable clipping"), std::string::npos) << what;
  }
}

TEST(NonFinite, SkipStopsAfterMaxSkipsInARowWithTheSameMessage) {
  Trainer t(parse_recipe(recipe("batch_size = 8\nnonfinite = \"skip\"\nmax_skips = 3", "lr = 1e30"),
                         "r"));
  try {
    t.train_epoch({});
    FAIL() << "no exception";
  } catch (const NumericError& e) {
    const std::string what = e.what();
    EXPECT_NE(what.find("3 steps in a row"), std::string::npos) << what;
    EXPECT_NE(what.find("step 1"), std::string::npos) << what;  // one good step, then skips
  }
  EXPECT_EQ(t.step(), 1);
}

TEST(NonFinite, NonFiniteWeightsAreNeverSaved) {
  namespace fs = std::filesystem;
  const fs::path dir = fs::temp_directory_path() / ("sculpt_nf_" + std::to_string(::getpid()));
  fs::create_directories(dir);
  Trainer t(parse_recipe(recipe("batch_size = 32"), "r"));
  const std::string path = (dir / "c.safetensors").string();
  t.save_checkpoint(path);
  const auto before = fs::file_size(path);
  t.params().values()[3] = std::nanf("");
  EXPECT_THROW(t.save_checkpoint(path), NumericError);
  EXPECT_EQ(fs::file_size(path), before);  // the previous checkpoint is intact
  fs::remove_all(dir);
}

}  // namespace
}  // namespace sculpt::train

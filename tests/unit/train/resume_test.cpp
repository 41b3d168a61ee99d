// Exact resume at the library level: a trainer restored from an epoch-1 checkpoint ends epoch 2
// with the same bits as one that never stopped (with every registered optimizer and clipper);
// restore() lists every mismatch (names, shapes, optimizer state, damaged metadata, a changed
// recipe) and then changes nothing.
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cstring>
#include <filesystem>
#include <limits>
#include <map>
#include <string>
#include <vector>

#include "clip/clipper.h"
#include "core/error.h"
#include "io/checkpoint.h"
#include "optim/optimizer.h"
#include "train/checkpoint.h"
#include "train/trainer.h"
#include "unit/temp_dir_test.h"
#include "unit/train/resume_fixtures.h"

namespace sculpt::train {
namespace {

namespace fs = std::filesystem;

class ResumeTest : public sculpt::testing::TempDirTest {
 protected:
  // Trains `epochs` epochs of `recipe` and returns its checkpoint file.
  std::string train(const std::string& recipe, int epochs, const std::string& name) {
    Trainer t(parse_recipe(recipe, "test"));
    for (int e = 0; e < epochs; ++e) t.train_epoch({});
    t.save_checkpoint(path(name));
    return path(name);
  }
  // Restores the checkpoint `first` (epoch 1) into a fresh trainer and trains epoch 2 there.
  io::Checkpoint resume(const std::string& recipe, const std::string& first) {
    Trainer t(parse_recipe(recipe, "test"));
    t.restore(io::load_checkpoint(first), first);
    EXPECT_EQ(t.epoch(), 1);
    t.train_epoch({});
    t.save_checkpoint(path("resumed.safetensors"));
    return io::load_checkpoint(path("resumed.safetensors"));
  }
};

TEST_F(ResumeTest, SgdNesterovResumeEqualsTheStraightRunBitForBit) {
  const std::string r = blobs_recipe(kNesterov);
  const io::Checkpoint straight = io::load_checkpoint(train(r, 2, "straight.safetensors"));
  expect_same_checkpoint(straight, resume(r, train(r, 1, "e1.safetensors")));
  EXPECT_TRUE(straight.find("opt.momentum.fc1.weight"));
}

TEST_F(ResumeTest, AdamResumeEqualsTheStraightRunBitForBit) {
  const std::string r = blobs_recipe(kAdam);
  const io::Checkpoint straight = io::load_checkpoint(train(r, 2, "straight.safetensors"));
  expect_same_checkpoint(straight, resume(r, train(r, 1, "e1.safetensors")));
  EXPECT_TRUE(straight.find("opt.exp_avg_sq.fc1.weight"));
}

// Every optimizer of the registry with the options of its example: every state array it has
// travels in the checkpoint. The epoch's 14 steps end inside a cycle of Lookahead's k = 5, so
// its slow weights are needed there.
TEST_F(ResumeTest, EveryOptimizerResumesBitForBit) {
  for (const optim::OptimizerInfo& info : optim::optimizer_infos()) {
    SCOPED_TRACE(info.name);
    ASSERT_EQ(info.example.rfind("[optim]\n", 0), 0u) << info.example;
    const std::string r = blobs_recipe(info.example.substr(8));
    const io::Checkpoint straight =
        io::load_checkpoint(train(r, 2, info.name + "-straight.safetensors"));
    expect_same_checkpoint(straight, resume(r, train(r, 1, info.name + "-e1.safetensors")));
    EXPECT_TRUE(std::any_of(straight.tensors.begin(), straight.tensors.end(),
                            [](const auto& t) { return t.first.starts_with("opt."); }));
  }
}

// Every clipper of the registry with the options of its example, after SGD-Nesterov: what a
// rule keeps (the histories of autoclip and quantile-per-layer) travels in the metadata.
TEST_F(ResumeTest, EveryClipperResumesBitForBit) {
  const auto clip_state = [](const io::Checkpoint& ck) {
    const auto it = ck.metadata.find("clip");
    return it == ck.metadata.end() ? std::string() : it->second;
  };
  for (const clip::ClipperInfo& info : clip::clipper_infos()) {
    SCOPED_TRACE(info.name);
    const std::string r = blobs_recipe(kNesterov) + info.example;
    const io::Checkpoint straight =
        io::load_checkpoint(train(r, 2, info.name + "-straight.safetensors"));
    const io::Checkpoint resumed = resume(r, train(r, 1, info.name + "-e1.safetensors"));
    expect_same_checkpoint(straight, resumed);
    EXPECT_EQ(clip_state(straight), clip_state(resumed));
  }
}

TEST_F(ResumeTest, DropoutModelResumeEqualsTheStraightRunBitForBit) {
  const std::string r = blobs_recipe(kNesterov, kDropoutModel);
  const io::Checkpoint straight = io::load_checkpoint(train(r, 2, "straight.safetensors"));
  expect_same_checkpoint(straight, resume(r, train(r, 1, "e1.safetensors")));
}

// A schedule with state: one-cycle cycles the momentum from the step, and reduce-on-plateau
// (patience 0, so it acts every stalled epoch) carries best/bad epochs/scale across the resume.
// Run with run(): epoch 1 with train.epochs = 1 then resumed with 2, against 2 straight.
TEST_F(ResumeTest, PlateauAndOneCycleResumeEqualsTheStraightRunBitForBit) {
  const std::string r = blobs_recipe(kNesterov) +
                        "[schedule]\nname = \"one-cycle\"\ntotal = 2\nmax_lr = 0.3\n"
                        "[schedule.plateau]\npatience = 0\nthreshold = 0.5\nfactor = 0.5\n";
  Trainer straight(parse_recipe(r, "test"));
  straight.run({});
  EXPECT_EQ(straight.schedule().plateau_state().epochs, 2);
  EXPECT_EQ(straight.schedule().plateau_state().reductions, 1);  // epoch 2 is not 50% better
  straight.save_checkpoint(path("straight.safetensors"));
  Trainer first(parse_recipe(r, "test", {"train.epochs=1"}));
  first.run({});
  first.save_checkpoint(path("e1.safetensors"));
  Trainer resumed(parse_recipe(r, "test"));
  resumed.restore(io::load_checkpoint(path("e1.safetensors")));
  EXPECT_EQ(resumed.schedule().plateau_state(), first.schedule().plateau_state());
  resumed.run({});
  resumed.save_checkpoint(path("resumed.safetensors"));
  const io::Checkpoint a = io::load_checkpoint(path("straight.safetensors"));
  const io::Checkpoint b = io::load_checkpoint(path("resumed.safetensors"));
  expect_same_checkpoint(a, b);
  EXPECT_EQ(a.metadata.at("plateau"), b.metadata.at("plateau"));
}

// Clipping with history (AutoClip) and gradient accumulation resume exactly too: the norms
// seen so far travel in the checkpoint ("clip").
TEST_F(ResumeTest, AutoClipWithAccumulationResumeEqualsTheStraightRunBitForBit) {
  std::string r = blobs_recipe(kNesterov) + "[clip]\nname = \"autoclip\"\npercentile = 50\n";
  r.replace(r.find("batch_size = 32"), 15, "batch_size = 16\naccumulate = 2");
  const io::Checkpoint straight = io::load_checkpoint(train(r, 2, "straight.safetensors"));
  const io::Checkpoint resumed = resume(r, train(r, 1, "e1.safetensors"));
  expect_same_checkpoint(straight, resumed);
  EXPECT_EQ(straight.metadata.at("clip"), resumed.metadata.at("clip"));
  EXPECT_GT(
      std::count(straight.metadata.at("clip").begin(), straight.metadata.at("clip").end(), ' '),
      10);  // one norm per step of both epochs
}

// A schedule over "the whole run" (cosine with total = 0) would change every rate if the run
// got longer: train.epochs may then not change on resume.
TEST_F(ResumeTest, LengthMayNotChangeWhenTheScheduleSpansTheRun) {
  const std::string r = blobs_recipe(kNesterov) + "[schedule]\nname = \"cosine\"\n";
  const io::Checkpoint ck = io::load_checkpoint(train(r, 1, "c.safetensors"));
  Trainer longer(parse_recipe(r, "test", {"train.epochs=5"}));
  try {
    longer.restore(ck);
    FAIL() << "no exception";
  } catch (const ConfigError& e) {
    EXPECT_NE(e.message().find("train.epochs cannot change on resume (2 -> 5)"), std::string::npos)
        << e.message();
  }
  EXPECT_EQ(longer.epoch(), 0);
  Trainer fixed(parse_recipe(r, "test", {"schedule.total=2", "train.epochs=5"}));
  EXPECT_THROW(fixed.restore(ck), ConfigError);  // schedule.total differs from the checkpoint's
  Trainer same(parse_recipe(r, "test"));
  EXPECT_NO_THROW(same.restore(ck));
}

TEST(ResumeState, PlateauStateRoundTripsExactlyAndMalformedTextIsRejected) {
  const sched::PlateauState s{.scale = 0.1 * 0.1 * 0.3,
                              .best = 0.123456789012345678,
                              .bad_epochs = 2,
                              .cooldown_left = 1,
                              .epochs = 17,
                              .reductions = 3};
  EXPECT_EQ(parse_plateau_state(format_plateau_state(s)), s);
  sched::PlateauState fresh;
  fresh.best = std::numeric_limits<double>::infinity();
  EXPECT_EQ(parse_plateau_state(format_plateau_state(fresh)), fresh);
  for (const char* bad : {"", "0x1p+0 0x1p+0 1 2 3", "0x1p+0 nan 1 2 3 4", "0x1p+1 0 1 2 3 4",
                          "0x1p-1 0 -1 2 3 4", "0x1p-1 0 1 2 3 4 5", "0x1p-1 0 1 2 3 x"})
    EXPECT_FALSE(parse_plateau_state(bad).has_value()) << bad;
  std::map<std::string, std::string> meta;
  put_state(
      {.epoch = 1, .step = 3, .data_rng = {1, 2, 3, 4}, .dropout_rng = {5, 6, 7, 8}, .plateau = s},
      meta);
  EXPECT_EQ(get_state(meta, "x").plateau, s);
  meta["plateau"] = "broken";
  EXPECT_THROW(get_state(meta, "x"), DataError);
}

// The control: with the shuffling stream of another epoch, the same weights and optimizer state
// do not reproduce the run, so the comparison above can fail.
TEST_F(ResumeTest, TheDataStreamIsPartOfTheState) {
  const std::string r = blobs_recipe(kNesterov);
  const io::Checkpoint straight = io::load_checkpoint(train(r, 2, "straight.safetensors"));
  io::Checkpoint ck = io::load_checkpoint(train(r, 1, "e1.safetensors"));
  ck.metadata["rng.data"] = straight.metadata.at("rng.data");  // the stream after epoch 2
  Trainer t(parse_recipe(r, "test"));
  t.restore(ck);
  t.train_epoch({});
  t.save_checkpoint(path("other.safetensors"));
  const io::Checkpoint other = io::load_checkpoint(path("other.safetensors"));
  EXPECT_NE(other.find("fc1.weight")->data, straight.find("fc1.weight")->data);
}

TEST_F(ResumeTest, RestoreSetsEpochStepAndStreams) {
  const std::string r = blobs_recipe(kNesterov);
  const std::string e1 = train(r, 1, "e1.safetensors");
  const io::Checkpoint ck = io::load_checkpoint(e1);
  Trainer t(parse_recipe(r, "test"));
  t.restore(ck, e1);
  EXPECT_EQ(t.epoch(), 1);
  // 600 samples - 20% test - 10% of the rest for val = 432 training samples, 14 batches of 32.
  EXPECT_EQ(t.step(), 14);
  EXPECT_EQ(ck.metadata.at("step"), "14");
  t.save_checkpoint(path("again.safetensors"));
  expect_same_checkpoint(ck, io::load_checkpoint(path("again.safetensors")));
}

// An SGD-momentum checkpoint loaded into an Adam run: every missing and unexpected state tensor
// is named in one error, the hint names both optimizers, and nothing changes.
TEST_F(ResumeTest, AnotherOptimizersStateListsEveryMismatchAndChangesNothing) {
  const std::string sgd = train(blobs_recipe(kNesterov), 1, "sgd.safetensors");
  Trainer t(parse_recipe(blobs_recipe(kAdam), "test"));
  const std::vector<float> before(t.params().values().begin(), t.params().values().end());
  try {
    t.restore(io::load_checkpoint(sgd), sgd);
    FAIL() << "no exception";
  } catch (const DataError& e) {
    const std::string msg = e.message();
    for (const ParamEntry& p : t.params().entries()) {
      EXPECT_NE(msg.find("opt.exp_avg." + p.name), std::string::npos) << p.name << ": " << msg;
      EXPECT_NE(msg.find("opt.exp_avg_sq." + p.name), std::string::npos) << p.name;
      EXPECT_NE(msg.find("opt.momentum." + p.name), std::string::npos) << p.name;
    }
    EXPECT_LT(msg.find("missing"), msg.find("opt.exp_avg."));
    EXPECT_LT(msg.find("unexpected"), msg.find("opt.momentum."));
    EXPECT_NE(e.hint().find("'sgd'"), std::string::npos) << e.hint();
    EXPECT_NE(e.hint().find("'adam'"), std::string::npos) << e.hint();
    EXPECT_EQ(e.where(), sgd);
  }
  const std::vector<float> after(t.params().values().begin(), t.params().values().end());
  EXPECT_EQ(before, after);
  EXPECT_EQ(t.epoch(), 0);
  EXPECT_EQ(t.step(), 0);
}

TEST_F(ResumeTest, AnotherWidthIsAShapeErrorNamingWeightsAndState) {
  std::string wide = kDropoutModel;
  wide.replace(wide.find("out = 32"), 8, "out = 40");
  const std::string ck = train(blobs_recipe(kNesterov, kDropoutModel), 1, "c.safetensors");
  Trainer t(parse_recipe(blobs_recipe(kNesterov, wide), "test"));
  try {
    t.restore(io::load_checkpoint(ck));
    FAIL() << "no exception";
  } catch (const ShapeError& e) {
    const std::string msg = e.message();
    for (const char* s : {"fc1.weight (checkpoint [32, 8], model [40, 8])", "fc1.bias",
                          "fc2.weight (checkpoint [1, 32], model [1, 40])",
                          "opt.momentum.fc1.weight", "opt.momentum.fc2.weight"})
      EXPECT_NE(msg.find(s), std::string::npos) << s << " in " << msg;
    EXPECT_EQ(msg.find("fc2.bias"), std::string::npos) << msg;  // [1] in both
  }
}

TEST_F(ResumeTest, ChangedRecipeIsRefusedNamingTheKeysButLengthAndOutputMayChange) {
  const std::string r = blobs_recipe(kNesterov);
  const io::Checkpoint ck = io::load_checkpoint(train(r, 1, "c.safetensors"));
  std::string lr = r;
  lr.replace(lr.find("lr = 0.1"), 8, "lr = 0.2");
  try {
    Trainer t(parse_recipe(lr, "test", {"train.batch_size=16"}));
    t.restore(ck);
    FAIL() << "no exception";
  } catch (const ConfigError& e) {
    EXPECT_NE(e.message().find("optim.lr (checkpoint 0.1, now 0.2)"), std::string::npos)
        << e.message();
    EXPECT_NE(e.message().find("train.batch_size (checkpoint 32, now 16)"), std::string::npos);
  }
  Trainer longer(parse_recipe(r, "test", {"train.epochs=5", "output.name=x"}));
  EXPECT_NO_THROW(longer.restore(ck));
  EXPECT_EQ(longer.epoch(), 1);
}

TEST_F(ResumeTest, DamagedOrOldMetadataIsRefusedListingEveryKey) {
  const std::string r = blobs_recipe(kNesterov);
  const io::Checkpoint good = io::load_checkpoint(train(r, 1, "c.safetensors"));
  Trainer t(parse_recipe(r, "test"));

  io::Checkpoint ck = good;
  ck.metadata["step"] = "fourteen";
  ck.metadata.erase("rng.data");
  ck.metadata["dropout_key"] = "12";
  try {
    t.restore(ck, "c");
    FAIL() << "no exception";
  } catch (const DataError& e) {
    for (const char* s : {"step (\"fourteen\")", "rng.data (absent)", "dropout_key (\"12\")"})
      EXPECT_NE(e.message().find(s), std::string::npos) << s << " in " << e.message();
  }
  ck = good;
  ck.metadata["version"] = "1";
  try {
    t.restore(ck, "c");
    FAIL() << "no exception";
  } catch (const DataError& e) {
    EXPECT_NE(e.message().find("version 1"), std::string::npos) << e.message();
  }
  ck = good;
  ck.metadata["step"] = "15";  // more steps than one epoch of 14 batches has
  EXPECT_THROW(t.restore(ck), DataError);
  ck = good;
  ck.metadata["norm_mean"] = "0.5";
  EXPECT_THROW(t.restore(ck), DataError);
  EXPECT_EQ(t.epoch(), 0);
  EXPECT_NO_THROW(t.restore(good));
}

TEST(ResumeState, RngStateRoundTripsAndMalformedTextIsRejected) {
  const std::array<uint64_t, 4> s = {0x0123456789abcdefull, 1, ~0ull, 0xfeedull};
  EXPECT_EQ(format_rng_state(s),
            "0123456789abcdef 0000000000000001 ffffffffffffffff 000000000000feed");
  EXPECT_EQ(parse_rng_state(format_rng_state(s)), s);
  for (const char* bad : {"", "0123456789abcdef", "0123456789abcdef 1 2 3",
                          "0123456789abcdef 0000000000000001 ffffffffffffffff 000000000000feeg",
                          "0123456789abcdef 0000000000000001 ffffffffffffffff 000000000000feed ",
                          "0000000000000000 0000000000000000 0000000000000000 0000000000000000"})
    EXPECT_FALSE(parse_rng_state(bad).has_value()) << '"' << bad << '"';
}

TEST(ResumeState, PutAndGetRoundTrip) {
  const TrainState s{.epoch = 3,
                     .step = 1407,
                     .data_rng = {1, 2, 3, 4},
                     .dropout_rng = {5, 6, 7, 8},
                     .dropout_key = 0xabcdef0123456789ull};
  std::map<std::string, std::string> meta;
  put_state(s, meta);
  EXPECT_EQ(meta.at("format"), "sculpt-checkpoint");
  EXPECT_EQ(meta.at("version"), std::to_string(io::kCheckpointVersion));
  const TrainState t = get_state(meta, "x");
  EXPECT_EQ(t.epoch, 3);
  EXPECT_EQ(t.step, 1407);
  EXPECT_EQ(t.data_rng, s.data_rng);
  EXPECT_EQ(t.dropout_rng, s.dropout_rng);
  EXPECT_EQ(t.dropout_key, s.dropout_key);
  meta["epoch"] = "-1";
  EXPECT_THROW(get_state(meta, "x"), DataError);
  meta.erase("format");
  EXPECT_THROW(get_state(meta, "x"), DataError);
}

TEST(ResumeState, OnlyTheLengthAndTheOutputMayChange) {
  for (const char* k : {"train.epochs", "output.dir", "output.progress", "output.checkpoint"})
    EXPECT_TRUE(resume_may_change(k)) << k;
  for (const char* k : {"train.seed", "train.threads", "optim.lr", "optim.name", "train.epochsx",
                        "output", "data.limit_train", "schedule.gamma"})
    EXPECT_FALSE(resume_may_change(k)) << k;
}

TEST(ResumeState, RecipeDifferencesNameTableKeyAndLayer) {
  const RecipeConfig a = parse_recipe(blobs_recipe(kNesterov, kDropoutModel), "a");
  std::string text = blobs_recipe(kNesterov, kDropoutModel);
  text.replace(text.find("p = 0.3"), 7, "p = 0.5");
  const RecipeConfig b =
      parse_recipe(text, "b", {"train.epochs=9", "output.dir=elsewhere", "optim.momentum=0.8"});
  const std::vector<std::string> d = recipe_differences(a, b);
  ASSERT_EQ(d.size(), 2u) << fmt::format("{}", fmt::join(d, " | "));
  EXPECT_EQ(d[0], "model.layers[3].p (checkpoint 0.3, now 0.5)");
  EXPECT_EQ(d[1], "optim.momentum (checkpoint 0.9, now 0.8)");
  EXPECT_TRUE(recipe_differences(a, a).empty());
}

}  // namespace
}  // namespace sculpt::train

// Pruning inside the Trainer, on two Gaussian blobs and a 16-32-16-1 MLP (an epoch takes
// milliseconds): gradual pruning updates the mask exactly at the ramp's steps, to the ramp's
// target, and ends at the configured sparsity; pruned weights and every optimizer state entry
// under them are exactly 0; a run stopped after epoch 1 and resumed from its checkpoint ends with
// the same weights, masks and optimizer state, bit for bit, as the run that never stopped; and a
// checkpoint whose mask is not 0/1 is refused without touching the trainer.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cmath>
#include <cstring>
#include <filesystem>
#include <set>
#include <string>
#include <vector>

#include "core/error.h"
#include "io/checkpoint.h"
#include "train/trainer.h"

namespace sculpt::train {
namespace {

namespace fs = std::filesystem;

const char* kSgd = "name = \"sgd\"\nlr = 0.1\nmomentum = 0.9\nnesterov = true\nweight_decay = 5e-4";
const char* kAdam = "name = \"adam\"\nlr = 0.01\nweight_decay = 1e-4";

// 600 samples: about 420 train after val 0.1 and test 0.2 -> 14 steps of 32 per epoch. The ramp runs
// from step 0 to the end of epoch 2, the mask updated every 3 steps.
std::string recipe(const std::string& criterion, const std::string& optim, int epochs,
                   double sparsity = 0.8) {
  return fmt::format(R"([data]
source = "synthetic-blobs"
samples = 600
features = 16
val_fraction = 0.1
test_fraction = 0.2
[[model.layers]]
type = "flatten"
[[model.layers]]
type = "linear"
name = "fc1"
out = 32
[[model.layers]]
type = "relu"
[[model.layers]]
type = "linear"
name = "fc2"
out = 16
[[model.layers]]
type = "relu"
[[model.layers]]
type = "linear"
name = "fc3"
out = 1
[optim]
{}
[prune]
when = "gradual"
criterion = "{}"
sparsity = {}
start = 0
end = 2
every = 3
[train]
epochs = {}
batch_size = 32
loss = "bce"
seed = 7
[output]
progress = "none"
)",
                     optim, criterion, sparsity, epochs);
}

struct Variant {
  const char* criterion;
  const char* optim;
};
const Variant kVariants[] = {{"magnitude", kSgd}, {"taylor", kAdam}, {"movement", kSgd}};

// Weight entries of the prunable layers, and how many of them the mask prunes.
int64_t weight_count(Trainer& t) {
  int64_t n = 0;
  for (const prune::PrunableLayer& p : t.prunable()) n += t.params().entry(p.weight).size;
  return n;
}
int64_t pruned_weights(Trainer& t) {
  int64_t n = 0;
  const float* keep = t.masks().keep_data();
  for (const prune::PrunableLayer& p : t.prunable()) {
    const ParamEntry& e = t.params().entry(p.weight);
    n += std::count(keep + e.offset, keep + e.offset + e.size, 0.0f);
  }
  return n;
}

// Zhu & Gupta's cubic ramp from 0 to s_f over steps [t0, t1].
double cubic_target(double s_f, int64_t t, int64_t t0, int64_t t1) {
  const double r = 1.0 - double(t - t0) / double(t1 - t0);
  return s_f + (0.0 - s_f) * (r * r * r);
}

TEST(TrainerPrune, GradualPruningFollowsTheRampAndEndsAtTheTarget) {
  for (const Variant& v : kVariants) {
    SCOPED_TRACE(v.criterion);
    Trainer t(parse_recipe(recipe(v.criterion, v.optim, 3), "test"));
    const int64_t spe = t.steps_per_epoch();
    ASSERT_GT(spe, 6) << "too few steps for several mask updates per epoch";
    ASSERT_NE(t.pruner(), nullptr);
    const int64_t t1 = 2 * spe, n = weight_count(t);
    ASSERT_EQ(n, 16 * 32 + 32 * 16 + 16 * 1);

    std::set<int64_t> updates;
    TrainHooks hooks;
    hooks.on_step = [&](const StepEvent& ev) {
      if (ev.sparsity < 0) return;
      updates.insert(ev.step);
      const int64_t want = std::llround(cubic_target(0.8, ev.step, 0, t1) * double(n));
      EXPECT_EQ(pruned_weights(t), want) << "step " << ev.step;
      EXPECT_EQ(ev.sparsity, double(want) / double(n)) << "step " << ev.step;
    };
    for (int e = 0; e < 3; ++e) t.train_epoch(hooks);

    std::set<int64_t> expected;
    for (int64_t s = 1; s <= t1; ++s)
      if (s % 3 == 0 || s == t1) expected.insert(s);
    EXPECT_EQ(updates, expected);

    const int64_t want = std::llround(0.8 * double(n));
    EXPECT_EQ(pruned_weights(t), want);
    EXPECT_EQ(t.sparsity(), double(want) / double(n));
    int64_t kept = 0, params = 0;
    for (const prune::LayerStats& s : t.prune_stats()) {
      kept += s.kept;
      params += s.params;
    }
    EXPECT_EQ(params - kept, want) << "biases were pruned";

    // Pruned weights and the optimizer state under them are exactly 0.
    const float* keep = t.masks().keep_data();
    const auto w = t.params().values();
    const Trainer::Snapshot snap = t.snapshot();
    ASSERT_FALSE(snap.optimizer_state.empty());
    int64_t masked = 0, bad_w = 0, bad_state = 0, live_state = 0;
    for (int64_t i = 0; i < t.params().arena_size(); ++i) {
      if (keep[i] != 0.0f) {
        for (const auto& s : snap.optimizer_state) live_state += s[size_t(i)] != 0.0f;
        continue;
      }
      ++masked;
      bad_w += w[size_t(i)] != 0.0f;
      for (const auto& s : snap.optimizer_state) bad_state += s[size_t(i)] != 0.0f;
    }
    EXPECT_GE(masked, want);
    EXPECT_EQ(bad_w, 0) << "masked weights that are not 0";
    EXPECT_EQ(bad_state, 0) << "optimizer state under a zero mask";
    EXPECT_GT(live_state, 0) << "the optimizer kept no state at all (the test would be vacuous)";
  }
}

class TrainerPruneResume : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           fmt::format("sculpt_trainer_prune_{}_{}", ::getpid(),
                       ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  std::string path(const std::string& name) const { return (dir_ / name).string(); }
  fs::path dir_;
};

void expect_same_arena(const float* a, const float* b, int64_t n, const char* what) {
  EXPECT_EQ(0, std::memcmp(a, b, size_t(n) * sizeof(float))) << what << " differ";
}

// 2 epochs straight vs 1 epoch -> checkpoint -> a new trainer -> 1 more epoch. The ramp spans
// both epochs, so the restored masks (and the criterion's statistic) decide the second half.
TEST_F(TrainerPruneResume, ResumeEqualsTheStraightRunBitForBit) {
  for (const Variant& v : kVariants) {
    SCOPED_TRACE(v.criterion);
    const std::string r = recipe(v.criterion, v.optim, 2);
    Trainer straight(parse_recipe(r, "test"));
    straight.train_epoch({});
    straight.train_epoch({});
    straight.save_checkpoint(path("straight.safetensors"));

    {
      Trainer first(parse_recipe(r, "test"));
      first.train_epoch({});
      ASSERT_GT(pruned_weights(first), 0) << "nothing pruned by the end of epoch 1";
      ASSERT_LT(pruned_weights(first), pruned_weights(straight));
      first.save_checkpoint(path("e1.safetensors"));
    }
    const io::Checkpoint e1 = io::load_checkpoint(path("e1.safetensors"));
    EXPECT_NE(e1.find("mask.fc1.weight"), nullptr);
    if (std::string(v.criterion) != "magnitude") EXPECT_NE(e1.find("prune.stat.fc2.weight"), nullptr);

    Trainer resumed(parse_recipe(r, "test"));
    resumed.restore(e1, path("e1.safetensors"));
    ASSERT_EQ(resumed.step(), straight.steps_per_epoch());
    resumed.train_epoch({});
    resumed.save_checkpoint(path("resumed.safetensors"));

    const int64_t n = straight.params().arena_size();
    ASSERT_EQ(resumed.params().arena_size(), n);
    expect_same_arena(straight.params().values().data(), resumed.params().values().data(), n,
                      "weights");
    expect_same_arena(straight.masks().keep_data(), resumed.masks().keep_data(), n, "masks");
    const Trainer::Snapshot a = straight.snapshot(), b = resumed.snapshot();
    ASSERT_EQ(a.optimizer_state.size(), b.optimizer_state.size());
    for (size_t i = 0; i < a.optimizer_state.size(); ++i)
      expect_same_arena(a.optimizer_state[i].data(), b.optimizer_state[i].data(), n,
                        "optimizer state");
    EXPECT_EQ(resumed.sparsity(), straight.sparsity());

    // And the files: every tensor, masks and statistic included.
    const io::Checkpoint x = io::load_checkpoint(path("straight.safetensors"));
    const io::Checkpoint y = io::load_checkpoint(path("resumed.safetensors"));
    ASSERT_EQ(x.tensors.size(), y.tensors.size());
    for (const auto& [name, t] : x.tensors) {
      const io::StoredTensor* u = y.find(name);
      ASSERT_NE(u, nullptr) << name;
      ASSERT_EQ(t.data.size(), u->data.size()) << name;
      EXPECT_EQ(0, std::memcmp(t.data.data(), u->data.data(), t.data.size() * sizeof(float)))
          << name;
    }
  }
}

TEST_F(TrainerPruneResume, AMaskThatIsNotZeroOrOneIsRefused) {
  const std::string r = recipe("magnitude", kSgd, 2);
  {
    Trainer first(parse_recipe(r, "test"));
    first.train_epoch({});
    first.save_checkpoint(path("e1.safetensors"));
  }
  io::Checkpoint ck = io::load_checkpoint(path("e1.safetensors"));
  ASSERT_TRUE(ck.tensors.count("mask.fc2.weight"));
  io::StoredTensor* mask = &ck.tensors.at("mask.fc2.weight");
  mask->data[5] = 0.5f;

  Trainer t(parse_recipe(r, "test"));
  const std::vector<float> before(t.params().values().begin(), t.params().values().end());
  try {
    t.restore(ck, "e1.safetensors");
    FAIL() << "a mask holding 0.5 was accepted";
  } catch (const DataError& e) {
    EXPECT_NE(std::string(e.what()).find("mask.fc2.weight"), std::string::npos) << e.what();
    EXPECT_EQ(e.where(), "e1.safetensors");
  }
  // Nothing changed.
  EXPECT_EQ(t.step(), 0);
  EXPECT_EQ(t.epoch(), 0);
  EXPECT_EQ(0, std::memcmp(before.data(), t.params().values().data(), before.size() * sizeof(float)));
  const float* keep = t.masks().keep_data();
  EXPECT_TRUE(std::all_of(keep, keep + t.params().arena_size(), [](float k) { return k == 1.0f; }));

  // Any other non-binary value too; the intact file restores.
  mask->data[5] = -1.0f;
  EXPECT_THROW(t.restore(ck, "e1.safetensors"), DataError);
  mask->data[5] = 0.0f;
  EXPECT_NO_THROW(t.restore(ck, "e1.safetensors"));
  EXPECT_EQ(t.epoch(), 1);
}

}  // namespace
}  // namespace sculpt::train

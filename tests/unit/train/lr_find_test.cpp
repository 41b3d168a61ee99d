// The LR range test at the library level: it leaves the trainer exactly as it found it (weights,
// optimizer state, step, data stream), sweeps exponentially, stops at divergence (also through a
// non-finite loss under either train.nonfinite policy), suggests a rate that trains, and names
// the option of a bad setting.
#include "train/lr_find.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cmath>
#include <cstring>
#include <filesystem>
#include <string>

#include "core/error.h"
#include "io/checkpoint.h"
#include "train/trainer.h"

namespace sculpt::train {
namespace {

namespace fs = std::filesystem;

// y = w.x + b + noise on 8 features: 700 training samples, 22 steps per epoch of 32.
std::string linreg_recipe(const std::string& optim, const std::string& train_extra = "") {
  return R"([data]
source = "synthetic-linear"
samples = 1000
features = 8
noise = 0.1
val_fraction = 0.1
test_fraction = 0.2
normalize = "none"
[model]
name = "linear"
[optim]
)" + optim +
         R"(
[train]
epochs = 5
batch_size = 32
loss = "mse"
seed = 3
)" + train_extra +
         R"(
[output]
progress = "none"
)";
}

const char* kMomentum = "name = \"sgd\"\nlr = 0.05\nmomentum = 0.9\nweight_decay = 1e-4";

class LrFindTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           fmt::format("sculpt_lrfind_{}_{}", ::getpid(),
                       ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  // The trainer's whole state (weights, optimizer state, step, epoch, random streams).
  io::Checkpoint state_of(const Trainer& t, const std::string& name) {
    const std::string path = (dir_ / name).string();
    t.save_checkpoint(path);
    return io::load_checkpoint(path);
  }
  fs::path dir_;
};

int optimizer_tensors(const io::Checkpoint& ck) {
  int n = 0;
  for (const auto& [name, t] : ck.tensors) n += name.starts_with("opt.");
  return n;
}

void expect_same_state(const io::Checkpoint& a, const io::Checkpoint& b) {
  ASSERT_EQ(a.tensors.size(), b.tensors.size());
  for (const auto& [name, t] : a.tensors) {
    const io::StoredTensor* u = b.find(name);
    ASSERT_NE(u, nullptr) << name;
    ASSERT_EQ(t.data.size(), u->data.size()) << name;
    EXPECT_EQ(0, std::memcmp(t.data.data(), u->data.data(), t.data.size() * sizeof(float))) << name;
  }
  for (const char* key : {"epoch", "step", "rng.data", "rng.dropout", "dropout_key"})
    EXPECT_EQ(a.metadata.at(key), b.metadata.at(key)) << key;
}

TEST_F(LrFindTest, LeavesWeightsOptimizerStateAndDataStreamBitIdentical) {
  const std::string r = linreg_recipe(kMomentum);
  Trainer t(parse_recipe(r, "test"));
  t.train_epoch({});  // non-zero momentum buffers and a step counter past 0
  const io::Checkpoint before = state_of(t, "before.safetensors");
  ASSERT_GT(optimizer_tensors(before), 0);
  const LrFindResult res = lr_find(t, {});
  EXPECT_GT(res.steps_run, 10);
  EXPECT_DOUBLE_EQ(res.lr.front(), 1e-7);  // the sweep starts at `start` from any step
  expect_same_state(before, state_of(t, "after.safetensors"));

  // Continuing equals never having run the sweep.
  Trainer u(parse_recipe(r, "test"));
  u.train_epoch({});
  t.train_epoch({});
  u.train_epoch({});
  expect_same_state(state_of(u, "straight.safetensors"), state_of(t, "continued.safetensors"));
}

TEST_F(LrFindTest, AdamStateIsRestoredToo) {
  Trainer t(parse_recipe(linreg_recipe("name = \"adam\"\nlr = 0.01"), "test"));
  t.train_epoch({});
  const io::Checkpoint before = state_of(t, "before.safetensors");
  ASSERT_GE(optimizer_tensors(before), 4);  // exp_avg and exp_avg_sq of weight and bias
  lr_find(t, {.steps = 60});
  expect_same_state(before, state_of(t, "after.safetensors"));
}

TEST_F(LrFindTest, RatesAreExponentialFromStartToEnd) {
  Trainer t(parse_recipe(linreg_recipe(kMomentum), "test"));
  const LrFindConfig c{.start = 1e-5, .end = 1e-2, .steps = 50, .diverge = 1e9};
  const LrFindResult r = lr_find(t, c);
  ASSERT_EQ(r.lr.size(), 50u);
  EXPECT_EQ(r.steps_run, 50);
  EXPECT_FALSE(r.diverged);
  for (size_t i = 0; i < r.lr.size(); ++i) {
    const double want = c.start * std::pow(c.end / c.start, double(i) / 49.0);
    EXPECT_NEAR(r.lr[i], want, 1e-12 * want) << i;
  }
  EXPECT_EQ(r.loss.size(), 50u);
  EXPECT_EQ(r.smoothed.size(), 50u);
  EXPECT_DOUBLE_EQ(r.smoothed[0], r.loss[0]);  // the bias correction makes the first exact
}

TEST_F(LrFindTest, SmoothedIsTheBiasCorrectedMovingAverage) {
  Trainer t(parse_recipe(linreg_recipe(kMomentum), "test"));
  const LrFindConfig c{.start = 1e-5, .end = 1e-3, .steps = 20, .smooth = 0.9, .diverge = 1e9};
  const LrFindResult r = lr_find(t, c);
  double avg = 0.0;
  for (size_t i = 0; i < r.loss.size(); ++i) {
    avg = 0.9 * avg + 0.1 * r.loss[i];
    EXPECT_NEAR(r.smoothed[i], avg / (1.0 - std::pow(0.9, double(i + 1))), 1e-12 * avg) << i;
  }
}

TEST_F(LrFindTest, TheSweepToTenDivergesOnLinearRegressionAndTheSuggestionIsBelowIt) {
  Trainer t(parse_recipe(linreg_recipe(kMomentum), "test"));
  const LrFindResult r = lr_find(t, {});
  EXPECT_TRUE(r.diverged);
  EXPECT_LT(r.steps_run, 200);
  ASSERT_FALSE(r.lr.empty());
  const double diverged_at = r.lr.back();
  EXPECT_LT(diverged_at, 10.0);
  EXPECT_TRUE(r.note.empty()) << r.note;
  for (double s : {r.suggested, r.suggested_steepest, r.suggested_min10}) {
    EXPECT_GT(s, 1e-7);
    EXPECT_LT(s, diverged_at);
  }
  EXPECT_DOUBLE_EQ(r.suggested_min10, r.min_loss_lr / 10.0);
  EXPECT_GE(r.suggested, std::min(r.suggested_steepest, r.suggested_min10));
  EXPECT_LE(r.suggested, r.suggested_min10);
}

// The suggestion is a rate that trains: a few epochs at it reach the noise floor (MSE 0.01).
TEST_F(LrFindTest, TheSuggestedRateTrainsLinearRegression) {
  const std::string r = linreg_recipe(kMomentum);
  Trainer probe(parse_recipe(r, "test"));
  const double lr = lr_find(probe, {}).suggested;
  ASSERT_TRUE(std::isfinite(lr));
  Trainer t(parse_recipe(r, "test", {fmt::format("optim.lr={}", lr)}));
  EpochEvent ev;
  for (int e = 0; e < 5; ++e) ev = t.train_epoch({});
  EXPECT_LT(t.evaluate_split(t.splits().test).loss, 0.03) << "lr " << lr;
}

// Past divergence the loss overflows: a NumericError from the step (nonfinite = "stop") or a
// skipped step ("skip") ends the sweep, and the trainer is still restored.
TEST_F(LrFindTest, NonFiniteLossEndsTheSweepUnderEitherPolicy) {
  for (const char* policy : {"stop", "skip"}) {
    Trainer t(
        parse_recipe(linreg_recipe(kMomentum, fmt::format("nonfinite = \"{}\"", policy)), "test"));
    const io::Checkpoint before = state_of(t, "before.safetensors");
    const LrFindResult r = lr_find(t, {.start = 1e-3, .end = 1e12, .steps = 100, .diverge = 1e300});
    EXPECT_TRUE(r.diverged) << policy;
    EXPECT_LT(r.steps_run, 100) << policy;
    for (double v : r.loss) EXPECT_TRUE(std::isfinite(v)) << policy;
    expect_same_state(before, state_of(t, "after.safetensors"));
  }
}

TEST_F(LrFindTest, AFlatLossGivesNoSuggestionAndSaysSo) {
  Trainer t(parse_recipe(linreg_recipe(kMomentum), "test"));
  const LrFindResult r = lr_find(t, {.start = 1e-12, .end = 1e-11, .steps = 30});
  EXPECT_FALSE(r.diverged);
  EXPECT_TRUE(std::isnan(r.suggested));
  EXPECT_NE(r.note.find("never decreased"), std::string::npos) << r.note;
}

TEST(LrFindConfigTest, BadValuesNameTheirOption) {
  const auto where = [](const LrFindConfig& c) {
    try {
      check_lr_find_config(c);
    } catch (const ConfigError& e) {
      return e.where();
    }
    return std::string("no error");
  };
  EXPECT_EQ(where({}), "no error");
  EXPECT_EQ(where({.start = 0}), "--start");
  EXPECT_EQ(where({.start = -1}), "--start");
  EXPECT_EQ(where({.start = 1, .end = 1}), "--end");
  EXPECT_EQ(where({.end = std::nan("")}), "--end");
  EXPECT_EQ(where({.steps = 9}), "--steps");
  EXPECT_EQ(where({.smooth = 1.0}), "--smooth");
  EXPECT_EQ(where({.smooth = -0.1}), "--smooth");
  EXPECT_EQ(where({.diverge = 1.0}), "--diverge");
}

TEST_F(LrFindTest, LrFindChecksTheConfigBeforeTouchingTheTrainer) {
  Trainer t(parse_recipe(linreg_recipe(kMomentum), "test"));
  const io::Checkpoint before = state_of(t, "before.safetensors");
  EXPECT_THROW(lr_find(t, {.steps = 3}), ConfigError);
  expect_same_state(before, state_of(t, "after.safetensors"));
}

}  // namespace
}  // namespace sculpt::train

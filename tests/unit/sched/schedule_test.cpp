// Schedules: closed forms of the seed's formulas, units, warmup, phases, reduce-on-plateau, the
// errors a recipe can cause, and properties of every registered family. The PyTorch
// comparisons are in sched_golden_test.cpp.
#include "sched/schedule.h"

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <cmath>
#include <numbers>

#include "core/error.h"
#include "io/recipe.h"
#include "optim/optimizer.h"

namespace sculpt::sched {
namespace {

// A schedule from recipe text: [optim] lr = 0.1 plus `schedule`, for `epochs` of `spe` steps.
Schedule build(const std::string& schedule, int64_t spe = 10, int64_t epochs = 10,
               double lr = 0.1) {
  const RecipeConfig r = parse_recipe(fmt::format("[optim]\nlr = {}\n{}", lr, schedule), "test.toml");
  return make_schedule(r.schedule, optim::base_lr(r.optim),
                       {.steps_per_epoch = spe, .total_steps = spe * epochs});
}

std::string error_of(const std::string& schedule, int64_t spe = 10, int64_t epochs = 10) {
  try {
    build(schedule, spe, epochs);
  } catch (const ConfigError& e) {
    return e.what();
  }
  return "no error";
}

// unit = "run": lengths are fractions of the run. A warmup of 0.1 before a cosine is the
// epoch-unit warmup of 1 epoch in a 10-epoch run, and keeps its share of any run length.
TEST(Schedule, RunUnitIsAFractionOfTheRun) {
  const std::string run = "[schedule]\nname = \"cosine\"\nunit = \"run\"\nwarmup = 0.1\n";
  const Schedule a = build(run, 10, 10);
  const Schedule b = build("[schedule]\nname = \"cosine\"\nwarmup = 1\n", 10, 10);
  for (int64_t t = 0; t <= 100; ++t) EXPECT_NEAR(a.at(t), b.at(t), 1e-15) << t;
  for (int64_t epochs : {1, 3, 7, 40}) {
    const Schedule s = build(run, 10, epochs);
    const int64_t total = 10 * epochs;
    EXPECT_NEAR(s.at(total / 10), 0.1, 1e-12) << epochs;  // the peak, after the warmup
    EXPECT_LT(s.at(total / 20), 0.1) << epochs;           // still warming up
    EXPECT_NEAR(s.at(total), 0.0, 1e-12) << epochs;       // the cosine ends at min_lr
  }
  const RecipeConfig r = parse_recipe("[optim]\nlr = 0.1\n" + run, "test.toml");
  EXPECT_TRUE(depends_on_run_length(r.schedule));
  EXPECT_NE(error_of("[schedule]\nname = \"cosine\"\nunit = \"run\"\nwarmup = 1\n")
                .find("schedule.warmup"),
            std::string::npos);
}

// 10 epochs of 10 steps: stable at eta_0 = 0.1 up to step 70, then down to min_lr at step 100
// (linearly: 0.055 at step 85), held there after; a cosine tail is at the midpoint too at 85.
TEST(Schedule, WarmupStableDecayHoldsThenDecaysOverItsLastShare) {
  const Schedule s =
      build("[schedule]\nname = \"warmup-stable-decay\"\ndecay = 0.3\nmin_lr = 0.01\n");
  for (int64_t t : {0, 35, 70}) EXPECT_NEAR(s.at(t), 0.1, 1e-15) << t;
  EXPECT_NEAR(s.at(85), 0.055, 1e-12);
  EXPECT_NEAR(s.at(100), 0.01, 1e-12);
  EXPECT_NEAR(s.at(120), 0.01, 1e-12);
  const Schedule c = build(
      "[schedule]\nname = \"warmup-stable-decay\"\ndecay = 0.3\nmin_lr = 0.01\nshape = "
      "\"cosine\"\n");
  EXPECT_NEAR(c.at(70), 0.1, 1e-15);
  EXPECT_NEAR(c.at(85), 0.055, 1e-12);
  EXPECT_LT(c.at(78), s.at(78) + 0.02);
  EXPECT_GT(c.at(78), s.at(78));  // a cosine falls slowly first
  // With a warmup of one epoch the rise comes first and the decay still ends at step 100.
  const Schedule w = build("[schedule]\nname = \"warmup-stable-decay\"\nwarmup = 1\ndecay = 0.3\n");
  EXPECT_LT(w.at(5), 0.1);
  EXPECT_NEAR(w.at(50), 0.1, 1e-15);
  EXPECT_NEAR(w.at(100), 0.0, 1e-12);
  EXPECT_NE(
      error_of("[schedule]\nname = \"warmup-stable-decay\"\ndecay = 1.5\n").find("schedule.decay"),
      std::string::npos);
}

TEST(Schedule, ConstantIsTheBaseRateAtEveryStep) {
  const Schedule c = Schedule::constant(0.3);
  for (int64_t s : {0, 1, 1000, 1 << 30}) EXPECT_EQ(c.at(s), 0.3);
  EXPECT_FALSE(c.cycles_momentum());
  EXPECT_FALSE(c.watches());
}

// The seed's polynomial decay eta_0 (1 - t/T)^alpha with an end value, over the whole run.
TEST(Schedule, PolynomialIsTheSeedFormula) {
  const Schedule s = build(
      "[schedule]\nname = \"polynomial\"\npower = 2.0\nend_lr = 0.01\n"
      "unit = \"step\"\n");
  for (int64_t t : {0, 1, 37, 50, 99, 100, 150}) {
    const double x = 1.0 - std::min(t, int64_t{100}) / 100.0;
    EXPECT_NEAR(s.at(t), (0.1 - 0.01) * x * x + 0.01, 1e-15) << t;
  }
}

// The seed's inverse-time decay eta_0 / (1 + beta t / T), and its staircase form.
TEST(Schedule, InverseTimeIsTheSeedFormula) {
  const Schedule s = build("[schedule]\nname = \"inverse-time\"\nbeta = 3.0\nperiod = 2\n");
  const Schedule st =
      build("[schedule]\nname = \"inverse-time\"\nbeta = 3.0\nperiod = 2\nstaircase = true\n");
  for (int64_t step : {0, 5, 19, 20, 33, 99}) {
    const double t = step / 10.0;  // epochs
    EXPECT_NEAR(s.at(step), 0.1 / (1.0 + 3.0 * t / 2.0), 1e-15) << step;
    EXPECT_NEAR(st.at(step), 0.1 / (1.0 + 3.0 * std::floor(t / 2.0)), 1e-15) << step;
  }
  // period = 0: T is the whole run (10 epochs).
  const Schedule whole = build("[schedule]\nname = \"inverse-time\"\nbeta = 1.0\n");
  EXPECT_NEAR(whole.at(100), 0.05, 1e-15);
}

// Epoch units are evaluated at fractional epochs (smooth); update = "epoch" holds the rate
// within an epoch; unit = "step" counts steps.
TEST(Schedule, UnitsAndUpdates) {
  const Schedule smooth = build("[schedule]\nname = \"exponential\"\ngamma = 0.5\n");
  const Schedule held =
      build("[schedule]\nname = \"exponential\"\ngamma = 0.5\nupdate = \"epoch\"\n");
  const Schedule steps =
      build("[schedule]\nname = \"exponential\"\ngamma = 0.5\nunit = \"step\"\n");
  EXPECT_NEAR(smooth.at(15), 0.1 * std::pow(0.5, 1.5), 1e-16);
  EXPECT_EQ(held.at(15), held.at(10));
  EXPECT_NEAR(held.at(19), 0.05, 1e-16);
  EXPECT_NEAR(held.at(20), 0.025, 1e-16);
  EXPECT_NEAR(steps.at(3), 0.1 * 0.125, 1e-16);
}

// Workload A: 469 steps an epoch, the rate drops at the start of epoch 8 (after 7 epochs).
TEST(Schedule, StepCountsEpochs) {
  const Schedule s = build("[schedule]\nname = \"step\"\nstep_size = 7\n", 469, 10);
  EXPECT_DOUBLE_EQ(s.at(7 * 469 - 1), 0.1);
  EXPECT_DOUBLE_EQ(s.at(7 * 469), 0.1 * 0.1);
}

// Warmup ramps from warmup_start * eta_0 to eta_0, then the family starts at its own t = 0 and
// covers the rest of the run (cosine: reaches min_lr exactly at the last epoch).
TEST(Schedule, WarmupThenCosineOverTheRest) {
  const Schedule s = build("[schedule]\nname = \"cosine\"\nwarmup = 2\nwarmup_start = 0.1\n");
  EXPECT_NEAR(s.at(0), 0.01, 1e-16);
  EXPECT_NEAR(s.at(10), 0.1 * (0.1 + 0.9 * 0.5), 1e-16);
  EXPECT_NEAR(s.at(20), 0.1, 1e-16);
  for (int64_t step : {30, 55, 99}) {
    const double x = (step / 10.0 - 2.0) / 8.0;
    EXPECT_NEAR(s.at(step), 0.1 * (1 + std::cos(std::numbers::pi * x)) / 2, 1e-15) << step;
  }
  EXPECT_NEAR(s.at(100), 0.0, 1e-16);
}

TEST(Schedule, SequenceRunsEachPhaseFromItsOwnStart) {
  const Schedule s = build(
      "[schedule]\nname = \"sequence\"\n"
      "[[schedule.phases]]\nname = \"constant\"\nlength = 3\n"
      "[[schedule.phases]]\nname = \"exponential\"\ngamma = 0.5\nlength = 2\n"
      "[[schedule.phases]]\nname = \"linear\"\nstart_factor = 0.2\nend_factor = 0.0\n");
  EXPECT_EQ(s.at(29), 0.1);
  EXPECT_NEAR(s.at(30), 0.1, 1e-16);
  EXPECT_NEAR(s.at(40), 0.05, 1e-16);
  EXPECT_NEAR(s.at(50), 0.02, 1e-16);  // the last phase covers the remaining 5 epochs
  EXPECT_NEAR(s.at(75), 0.01, 1e-16);
  EXPECT_NEAR(s.at(100), 0.0, 1e-16);
}

TEST(Schedule, OneCycleCyclesMomentumInversely) {
  const Schedule s = build("[schedule]\nname = \"one-cycle\"\nmax_lr = 1.0\nunit = \"step\"\n");
  ASSERT_TRUE(s.cycles_momentum());
  EXPECT_NEAR(s.at(0), 1.0 / 25, 1e-15);
  EXPECT_NEAR(*s.momentum_at(0), 0.95, 1e-15);
  EXPECT_NEAR(s.at(29), 1.0, 1e-15);  // the peak at pct_start * T - 1
  EXPECT_NEAR(*s.momentum_at(29), 0.85, 1e-15);
  EXPECT_NEAR(s.at(99), 1.0 / 25 / 1e4, 1e-15);
  EXPECT_NEAR(*s.momentum_at(99), 0.95, 1e-15);
  const Schedule off =
      build("[schedule]\nname = \"one-cycle\"\nunit = \"step\"\ncycle_momentum = false\n");
  EXPECT_FALSE(off.cycles_momentum());
  EXPECT_FALSE(off.momentum_at(10).has_value());
}

// Reduce-on-plateau scales any base schedule: patience 1 -> the second bad epoch reduces.
TEST(Schedule, PlateauScalesTheBaseScheduleAndKeepsItsState) {
  Schedule s =
      build("[schedule]\nname = \"cosine\"\n[schedule.plateau]\npatience = 1\nfactor = 0.5\n");
  ASSERT_TRUE(s.watches());
  EXPECT_EQ(s.metric(), "val_loss");
  const double base = s.at(25);
  EXPECT_FALSE(s.observe(1.0));
  EXPECT_FALSE(s.observe(0.9));
  EXPECT_FALSE(s.observe(0.95));  // one bad epoch: within patience
  EXPECT_TRUE(s.observe(0.95));   // two: reduce
  EXPECT_NEAR(s.at(25), base * 0.5, 1e-17);
  const PlateauState saved = s.plateau_state();
  EXPECT_EQ(saved.reductions, 1);
  Schedule t =
      build("[schedule]\nname = \"cosine\"\n[schedule.plateau]\npatience = 1\nfactor = 0.5\n");
  t.set_plateau_state(saved);
  for (double m : {0.99, 0.98, 0.5, 0.7, 0.7, 0.7}) EXPECT_EQ(s.observe(m), t.observe(m));
  EXPECT_EQ(s.plateau_state(), t.plateau_state());
  EXPECT_EQ(s.at(42), t.at(42));
}

// Accuracy is maximised; min_lr stops the reductions.
TEST(Schedule, PlateauOnAccuracyStopsAtMinLr) {
  Schedule s = build(
      "[schedule]\n[schedule.plateau]\nmetric = \"val_acc\"\npatience = 0\nfactor = 0.1\n"
      "min_lr = 0.002\n");
  EXPECT_FALSE(s.observe(0.5));
  EXPECT_FALSE(s.observe(0.6));
  EXPECT_TRUE(s.observe(0.6));
  EXPECT_NEAR(s.at(0), 0.01, 1e-17);
  EXPECT_TRUE(s.observe(0.55));
  EXPECT_NEAR(s.at(0), 0.002, 1e-17);
  EXPECT_FALSE(s.observe(0.55));  // already at min_lr: nothing left to reduce
  EXPECT_NEAR(s.at(0), 0.002, 1e-17);
}

TEST(Schedule, BadValuesNameTheField) {
  EXPECT_NE(error_of("[schedule]\nname = \"step\"\nstep_size = 0\n").find("schedule.step_size"),
            std::string::npos);
  EXPECT_NE(error_of("[schedule]\nname = \"cosine\"\ntotal = -1\n").find("schedule.total"),
            std::string::npos);
  EXPECT_NE(error_of("[schedule]\nname = \"multistep\"\nmilestones = [3, 2]\n")
                .find("schedule.milestones must increase"),
            std::string::npos);
  EXPECT_NE(error_of("[schedule]\nname = \"multistep\"\nmilestones = [3, -2]\n")
                .find("schedule.milestones[1]"),
            std::string::npos);
  EXPECT_NE(
      error_of("[schedule]\n[schedule.plateau]\nfactor = 1.0\n").find("schedule.plateau.factor"),
      std::string::npos);
  EXPECT_NE(error_of("[schedule]\nname = \"cosine\"\nwarmup = 10\n").find("schedule.warmup"),
            std::string::npos);
  EXPECT_NE(error_of("[schedule]\nunit = \"epochs\"\n").find("schedule.unit"), std::string::npos);
  EXPECT_NE(error_of("[schedule]\nunit = \"epochs\"\n").find("did you mean 'epoch'"),
            std::string::npos);
  EXPECT_NE(error_of("[schedule]\nname = \"cyclic\"\n").find("schedule.max_lr is required"),
            std::string::npos);
  EXPECT_NE(error_of("[schedule]\nname = \"step\"\ntotal = 3\n")
                .find("schedule.total is not a field of schedule.name = \"step\""),
            std::string::npos);
  EXPECT_NE(error_of("[schedule]\nname = \"cosine-ish\"\n").find("schedule.name"),
            std::string::npos);
  EXPECT_NE(error_of("[schedule]\nname = \"sequence\"\n").find("[[schedule.phases]]"),
            std::string::npos);
  EXPECT_NE(error_of("[schedule]\nname = \"sequence\"\n[[schedule.phases]]\nname = \"constant\"\n"
                     "length = 20\n[[schedule.phases]]\nname = \"cosine\"\n")
                .find("schedule.phases[1] starts at 20"),
            std::string::npos);
  EXPECT_NE(error_of("[schedule]\nname = \"sequence\"\n[[schedule.phases]]\nname = \"constant\"\n"
                     "[[schedule.phases]]\nname = \"cosine\"\n")
                .find("schedule.phases[0].length is required"),
            std::string::npos);
  EXPECT_NE(error_of("[schedule]\nname = \"one-cycle\"\nunit = \"step\"\ntotal = 2\n")
                .find("schedule.total"),
            std::string::npos);
}

}  // namespace
}  // namespace sculpt::sched

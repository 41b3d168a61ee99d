// Schedules: values worked by hand (the step schedule is PyTorch's MultiStepLR/StepLR rule).
#include "sched/schedule.h"

#include <gtest/gtest.h>

#include "core/error.h"
#include "io/recipe.h"

namespace sculpt::sched {
namespace {

TEST(Schedule, ConstantIsTheBaseRateAtEveryStep) {
  Constant c(0.3);
  for (int64_t s : {0, 1, 1000, 1 << 30}) EXPECT_EQ(c.at(s), 0.3);
}

// lr 0.1, a decay x0.1 every 3 steps: 0.1 0.1 0.1 0.01 0.01 0.01 0.001 ...
TEST(Schedule, StepDecaysAtEachBoundaryAndNotBefore) {
  Step s(0.1, 3, 0.1);
  EXPECT_DOUBLE_EQ(s.at(0), 0.1);
  EXPECT_DOUBLE_EQ(s.at(2), 0.1);
  EXPECT_DOUBLE_EQ(s.at(3), 0.1 * 0.1);
  EXPECT_DOUBLE_EQ(s.at(5), 0.1 * 0.1);
  EXPECT_DOUBLE_EQ(s.at(6), 0.1 * 0.1 * 0.1);
}

// Workload A: 469 steps an epoch, the rate drops at the start of epoch 8 (after 7 epochs).
TEST(Schedule, RegistryConvertsEpochsToSteps) {
  ScheduleConfig cfg{.name = "step", .step_epochs = 7, .gamma = 0.1};
  auto s = make_schedule(cfg, 0.1, 469);
  EXPECT_DOUBLE_EQ(s->at(7 * 469 - 1), 0.1);
  EXPECT_DOUBLE_EQ(s->at(7 * 469), 0.1 * 0.1);
}

TEST(Schedule, EveryRegisteredScheduleIsFiniteNonNegativeAndPure) {
  for (const std::string& name : schedule_names()) {
    ScheduleConfig cfg;
    cfg.name = name;
    auto s = make_schedule(cfg, 0.05, 10);
    for (int64_t t = 0; t < 500; t += 7) {
      const double v = s->at(t);
      EXPECT_TRUE(std::isfinite(v)) << name;
      EXPECT_GE(v, 0.0) << name;
      EXPECT_EQ(v, s->at(t)) << name;
    }
  }
}

TEST(Schedule, UnknownNameIsAConfigError) {
  ScheduleConfig cfg;
  cfg.name = "cosine-ish";
  EXPECT_THROW(make_schedule(cfg, 0.1, 10), ConfigError);
}

}  // namespace
}  // namespace sculpt::sched

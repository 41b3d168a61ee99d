// Schedule conformance: every registered family, from its registry example, is finite, >= 0 and
// pure, and reads back from its resolved recipe to the same rates. A new family is tested here
// for free; its PyTorch comparison goes into scripts/make_sched_golden.py.
#include <gtest/gtest.h>

#include <cmath>

#include "io/recipe.h"
#include "sched/schedule.h"

namespace sculpt::sched {
namespace {

// Every family, from its registry example: finite, >= 0, pure (same step, same value; two
// schedules built alike agree), and its resolved recipe reads back to the same schedule.
TEST(ScheduleConformance, EveryFamilyIsFiniteNonNegativeAndPure) {
  for (const ScheduleInfo& info : schedule_infos()) {
    SCOPED_TRACE(info.name);
    const std::string text = "[optim]\nlr = 0.1\n" + info.example;
    const RecipeConfig r = parse_recipe(text, info.name + ".toml");
    const RunLength run{.steps_per_epoch = 7, .total_steps = 70};
    const Schedule a = make_schedule(r.schedule, 0.1, run), b = make_schedule(r.schedule, 0.1, run);
    const RecipeConfig back = parse_recipe(to_toml(r), "resolved.toml");
    const Schedule c = make_schedule(back.schedule, 0.1, run);
    for (int64_t t = 0; t < 90; ++t) {
      const double v = a.at(t);
      ASSERT_TRUE(std::isfinite(v)) << t;
      ASSERT_GE(v, 0.0) << t;
      ASSERT_EQ(v, a.at(t)) << t;
      ASSERT_EQ(v, b.at(t)) << t;
      ASSERT_EQ(v, c.at(t)) << t;
      if (const auto m = a.momentum_at(t)) {
        ASSERT_TRUE(*m >= 0 && *m < 1) << t;
      }
    }
  }
}

}  // namespace
}  // namespace sculpt::sched

// The gradual-pruning clock: the cubic ramp equals Zhu & Gupta's formula, computed here on its
// own; due() fires at t0, every `every` steps and at the end step, never elsewhere; the target
// is 0 before t0 and s_f after the end; the four ramp shapes run from 1 to 0 without rising.
// Also: the ramp must fit in the run, end = 0 means two thirds of it, and the statistic of a
// gradient criterion is cleared by a prune while movement's is kept.
#include "prune/pruner.h"

#include <gtest/gtest.h>

#include <cmath>
#include <map>
#include <set>

#include "core/error.h"
#include "core/rng.h"
#include "nn/model.h"
#include "prune/structure.h"
#include "unit/prune/prune_test_net.h"

namespace sculpt::prune {
namespace {

PruneConfig gradual(double s_i, double s_f, double start, double end, int64_t every,
                    Ramp shape = Ramp::kCubic) {
  PruneConfig c;
  c.when = prune::When::kGradual;
  c.initial_sparsity = s_i;
  c.sparsity = s_f;
  c.start = start;
  c.end = end;
  c.every = every;
  c.ramp = shape;
  return c;
}

// Zhu & Gupta 2017, eq. (1): s_t = s_f + (s_i - s_f) (1 - (t - t0) / (n dt))^3 for t0 <= t <= t0 +
// n dt.
double zhu_gupta(double s_i, double s_f, double t, double t0, double n_dt) {
  const double r = 1.0 - (t - t0) / n_dt;
  return s_f + (s_i - s_f) * r * r * r;
}

// 10 steps per epoch, 40 steps in all; the ramp runs from epoch 1 (step 10) to epoch 3 (step 30).
TEST(PrunerRamp, CubicTargetIsZhuAndGuptasFormula) {
  test_net::Net net = test_net::build_mlp(3);
  const Pruner p(gradual(0.1, 0.9, 1, 3, 7), net.structure, net.ps, 10, 40, 1);
  ASSERT_EQ(p.begin_step(), 10);
  ASSERT_EQ(p.end_step(), 30);
  for (int64_t t : {10, 11, 13, 17, 20, 24, 29, 30})
    EXPECT_NEAR(p.target(t), zhu_gupta(0.1, 0.9, double(t), 10.0, 20.0), 1e-12) << "t = " << t;
  EXPECT_NEAR(p.target(10), 0.1, 1e-15);
  EXPECT_NEAR(p.target(20), 0.9 - 0.8 / 8.0, 1e-12);  // halfway: (1/2)^3 of the way left
  EXPECT_EQ(p.target(30), 0.9);
}

TEST(PrunerRamp, TargetIsZeroBeforeTheStartAndTheFinalSparsityAfterTheEnd) {
  test_net::Net net = test_net::build_mlp(3);
  const Pruner p(gradual(0.2, 0.85, 1, 3, 5), net.structure, net.ps, 10, 40, 1);
  for (int64_t t : {0, 1, 5, 9}) EXPECT_EQ(p.target(t), 0.0) << "t = " << t;
  for (int64_t t : {30, 31, 35, 40, 1000}) EXPECT_EQ(p.target(t), 0.85) << "t = " << t;
}

TEST(PrunerRamp, TargetRisesWithTheSteps) {
  for (const Choice<Ramp>& choice : kRamps) {
    const Ramp shape = choice.value;
    SCOPED_TRACE(choice.text);
    test_net::Net net = test_net::build_mlp(3);
    const Pruner p(gradual(0.0, 0.9, 1, 3, 5, shape), net.structure, net.ps, 10, 40, 1);
    for (int64_t t = 10; t < 40; ++t) EXPECT_LE(p.target(t), p.target(t + 1)) << "t = " << t;
    EXPECT_EQ(p.target(10), 0.0);
    EXPECT_EQ(p.target(30), 0.9);
  }
  test_net::Net net = test_net::build_mlp(3);
  const Pruner lin(gradual(0.2, 0.8, 1, 3, 5, Ramp::kLinear), net.structure, net.ps, 10, 40, 1);
  EXPECT_NEAR(lin.target(20), 0.5, 1e-12);
  EXPECT_NEAR(lin.target(15), 0.35, 1e-12);
}

TEST(PrunerRamp, DueAtTheStartEveryDtAndTheEndOnly) {
  test_net::Net net = test_net::build_mlp(3);
  const Pruner p(gradual(0.0, 0.9, 1, 3, 7), net.structure, net.ps, 10, 40, 1);
  const std::set<int64_t> expected{10, 17, 24, 30};
  for (int64_t t = 0; t <= 45; ++t) EXPECT_EQ(p.due(t), expected.count(t) == 1) << "t = " << t;

  // dt dividing the ramp: the end step is one of the regular ones.
  const Pruner q(gradual(0.0, 0.9, 0, 2, 5), net.structure, net.ps, 10, 40, 1);
  const std::set<int64_t> expected_q{0, 5, 10, 15, 20};
  for (int64_t t = 0; t <= 45; ++t) EXPECT_EQ(q.due(t), expected_q.count(t) == 1) << "t = " << t;
}

TEST(PrunerRamp, OnlyGradualPruningHasAClock) {
  test_net::Net net = test_net::build_mlp(3);
  for (const char* when : {"none", "snip", "at-end"}) {
    PruneConfig c;
    c.when = *enum_of<When>(when);
    c.sparsity = 0.7;
    const Pruner p(c, net.structure, net.ps, 10, 40, 1);
    for (int64_t t = 0; t <= 40; ++t) EXPECT_FALSE(p.due(t)) << when << " t = " << t;
    EXPECT_EQ(p.target(0), 0.7) << when;
    EXPECT_EQ(p.target(25), 0.7) << when;
  }
}

TEST(PrunerRamp, EndZeroMeansTwoThirdsOfTheRun) {
  test_net::Net net = test_net::build_mlp(3);
  const Pruner p(gradual(0.0, 0.9, 0, 0, 5), net.structure, net.ps, 10, 40, 1);
  EXPECT_EQ(p.begin_step(), 0);
  EXPECT_EQ(p.end_step(), 27);  // 40 * 2 / 3 = 26.67
  EXPECT_TRUE(p.due(27));
  EXPECT_FALSE(p.due(28));
  EXPECT_EQ(p.target(27), 0.9);
}

// unit = "run": start and end are fractions of the run's steps, whatever its length, so the
// same recipe fits runs of any number of epochs; with 10 epochs it is the epoch ramp 1..7.
TEST(PrunerRamp, RunUnitScalesTheRampWithTheRun) {
  test_net::Net net = test_net::build_mlp(3);
  PruneConfig c = gradual(0.0, 0.9, 0.1, 0.7, 5);
  c.unit = prune::RampUnit::kRun;
  for (int64_t epochs : {1, 2, 3, 10, 25}) {
    const int64_t total = 422 * epochs;
    const Pruner p(c, net.structure, net.ps, 422, total, 1);
    EXPECT_EQ(p.begin_step(), std::llround(0.1 * double(total))) << epochs;
    EXPECT_EQ(p.end_step(), std::llround(0.7 * double(total))) << epochs;
    EXPECT_EQ(p.target(p.end_step()), 0.9);
  }
  const Pruner run_unit(c, net.structure, net.ps, 422, 4220, 1);
  const Pruner epoch_unit(gradual(0.0, 0.9, 1, 7, 5), net.structure, net.ps, 422, 4220, 1);
  EXPECT_EQ(run_unit.begin_step(), epoch_unit.begin_step());
  EXPECT_EQ(run_unit.end_step(), epoch_unit.end_step());
  // A fraction past the run is refused when the config is checked, naming the field.
  c.end = 1.5;
  try {
    validate(c);
    FAIL() << "no exception";
  } catch (const ConfigError& e) {
    EXPECT_EQ(e.where(), "prune.end");
  }
}

TEST(PrunerRamp, ARampBeyondTheRunIsAConfigError) {
  test_net::Net net = test_net::build_mlp(3);
  try {
    Pruner p(gradual(0.0, 0.9, 1, 5, 5), net.structure, net.ps, 10, 40, 1);
    FAIL() << "no exception";
  } catch (const ConfigError& e) {
    EXPECT_EQ(e.where(), "prune.end");
    EXPECT_NE(std::string(e.what()).find("40"), std::string::npos) << e.what();
  }
  // start 3.5 epochs -> step 35, after the two-thirds default end (27).
  EXPECT_THROW((void)Pruner(gradual(0.0, 0.9, 3.5, 0, 5), net.structure, net.ps, 10, 40, 1),
               ConfigError);
}

TEST(PrunerRamp, EveryShapeRunsFromOneToZeroWithoutRising) {
  for (const Choice<Ramp>& choice : kRamps) {
    const Ramp shape = choice.value;
    SCOPED_TRACE(choice.text);
    EXPECT_DOUBLE_EQ(ramp(shape, 0.0), 1.0);
    EXPECT_NEAR(ramp(shape, 1.0), 0.0, 1e-15);
    double prev = ramp(shape, 0.0);
    for (int i = 1; i <= 1000; ++i) {
      const double v = ramp(shape, i / 1000.0);
      EXPECT_LE(v, prev) << "x = " << i / 1000.0;
      EXPECT_GE(v, 0.0);
      prev = v;
    }
    // Clamped outside [0, 1].
    EXPECT_DOUBLE_EQ(ramp(shape, -0.5), 1.0);
    EXPECT_NEAR(ramp(shape, 1.5), 0.0, 1e-15);
  }
  EXPECT_DOUBLE_EQ(ramp(Ramp::kCubic, 0.5), 0.125);
  EXPECT_DOUBLE_EQ(ramp(Ramp::kCubic, 0.25), 0.421875);
  EXPECT_DOUBLE_EQ(ramp(Ramp::kLinear, 0.25), 0.75);
  EXPECT_NEAR(ramp(Ramp::kCosine, 0.5), 0.5, 1e-15);
  EXPECT_GT(ramp(Ramp::kExponential, 0.25), 0.0);
  EXPECT_LT(ramp(Ramp::kExponential, 0.25),
            ramp(Ramp::kLinear, 0.25));  // most pruning happens early
}

// Gradient criteria sum over the batches before one mask update, then start again; movement
// keeps summing over the whole run.
TEST(PrunerStatistic, ClearedAfterAPruneExceptForMovement) {
  for (const char* crit : {"gradient", "taylor", "movement"}) {
    SCOPED_TRACE(crit);
    test_net::Net net = test_net::build_mlp(3);
    PruneConfig c = gradual(0.0, 0.5, 0, 2, 5);
    c.criterion = crit;
    Pruner p(c, net.structure, net.ps, 10, 40, 1);
    EXPECT_TRUE(p.observes_steps());
    Rng rng(9);
    for (size_t i = 0; i < net.ps.count(); ++i)
      for (float& g : net.ps.grad_span(i)) g = static_cast<float>(rng.uniform(-1.0, 1.0));
    p.observe(net.ps);
    const auto nonzero = [&] {
      return std::any_of(p.stat().begin(), p.stat().end(), [](float v) { return v != 0.0f; });
    };
    ASSERT_TRUE(nonzero());
    Masks masks;
    masks.init(net.ps);
    p.prune(net.ps, 0.3, masks);
    EXPECT_EQ(nonzero(), std::string(crit) == "movement");
  }
  test_net::Net net = test_net::build_mlp(3);
  Pruner mag(gradual(0.0, 0.5, 0, 2, 5), net.structure, net.ps, 10, 40, 1);
  EXPECT_FALSE(mag.observes_steps());
  EXPECT_TRUE(mag.stat().empty());
}

}  // namespace
}  // namespace sculpt::prune

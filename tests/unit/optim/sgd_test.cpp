// SGD: the update rule of torch.optim.SGD, worked by hand for two steps, and its properties.
#include "optim/sgd.h"

#include <gtest/gtest.h>

#include "core/error.h"
#include "core/param_store.h"

namespace sculpt::optim {
namespace {

ParamStore two_params() {
  ParamStore ps;
  ps.add("fc.weight", {3});
  ps.add("fc.bias", {2}, {.decays = false, .prunable = false});
  ps.finalize();
  for (size_t i = 0; i < 2; ++i)
    for (float& w : ps.value_span(i)) w = 1.0f;
  return ps;
}

SgdConfig sgd_config(double momentum, double dampening, bool nesterov, double weight_decay) {
  SgdConfig c;
  c.momentum = momentum;
  c.dampening = dampening;
  c.nesterov = nesterov;
  c.weight_decay = weight_decay;
  return c;
}

void set_grads(ParamStore& ps, float g) {
  for (size_t i = 0; i < ps.count(); ++i)
    for (float& x : ps.grad_span(i)) x = g;
}

// w0 = 1, g = 0.5, lr 0.1, momentum 0.9, Nesterov, weight decay 0.01 (weights only):
//   weight: d = 0.51, v = 0.51, d' = 0.969, w = 0.9031;
//           d = 0.509031, v = 0.968031, d' = 1.3802589, w = 0.76507411
//   bias:   w = 0.905, then 0.7695
TEST(Sgd, NesterovWithDecayMatchesHandComputedSteps) {
  ParamStore ps = two_params();
  Sgd sgd(sgd_config(0.9, 0.0, true, 0.01));
  sgd.init(ps);
  set_grads(ps, 0.5f);
  sgd.step(ps, 0.1, 0);
  EXPECT_NEAR(ps.value(0)[0], 0.9031f, 1e-6);
  EXPECT_NEAR(ps.value(1)[1], 0.905f, 1e-6);
  sgd.step(ps, 0.1, 1);
  EXPECT_NEAR(ps.value(0)[2], 0.76507411f, 1e-6);
  EXPECT_NEAR(ps.value(1)[0], 0.7695f, 1e-6);
}

// Heavy ball with dampening (the EMA form when dampening = momentum):
//   step 0: v = g = 0.5 (PyTorch initialises the buffer with the raw gradient), w = 0.95
//   step 1: v = 0.9 * 0.5 + 0.1 * 0.5 = 0.5, w = 0.90
TEST(Sgd, DampenedMomentumFollowsTorchFirstStepRule) {
  ParamStore ps = two_params();
  Sgd sgd(sgd_config(0.9, 0.9, false, 0.0));
  sgd.init(ps);
  set_grads(ps, 0.5f);
  sgd.step(ps, 0.1, 0);
  EXPECT_NEAR(ps.value(0)[0], 0.95f, 1e-6);
  sgd.step(ps, 0.1, 1);
  EXPECT_NEAR(ps.value(0)[0], 0.90f, 1e-6);
  ASSERT_EQ(sgd.state().size(), 1u);
  EXPECT_NEAR((*sgd.state()[0].data)[0], 0.5f, 1e-6);
}

TEST(Sgd, PlainSgdHasNoStateAndSubtractsLrTimesGrad) {
  ParamStore ps = two_params();
  Sgd sgd(SgdConfig{});
  sgd.init(ps);
  set_grads(ps, 2.0f);
  sgd.step(ps, 0.25, 0);
  EXPECT_FLOAT_EQ(ps.value(0)[1], 0.5f);
  EXPECT_TRUE(sgd.state().empty());
}

TEST(Sgd, ZeroLearningRateChangesNothing) {
  ParamStore ps = two_params();
  Sgd sgd(sgd_config(0.9, 0.0, true, 0.1));
  sgd.init(ps);
  set_grads(ps, 3.0f);
  for (int s = 0; s < 5; ++s) sgd.step(ps, 0.0, s);
  for (size_t i = 0; i < ps.count(); ++i)
    for (float w : ps.value_span(i)) EXPECT_EQ(w, 1.0f);
}

TEST(Sgd, NesterovWithoutMomentumIsRejected) {
  EXPECT_THROW(Sgd(sgd_config(0.0, 0.0, true, 0.0)), ConfigError);
}

}  // namespace
}  // namespace sculpt::optim

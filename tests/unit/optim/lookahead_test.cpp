// Lookahead around SGD, worked by hand: the slow weights start at the weights, follow the fast
// ones every k steps and put them back; SGD's momentum carries on across a synchronisation;
// k = 1 with alpha = 1 is SGD; a mask set in the middle of a cycle keeps the pruned weight and
// its slow weight at zero.
#include "optim/lookahead.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "core/masks.h"
#include "core/param_store.h"

namespace sculpt::optim {
namespace {

ParamStore lookahead_params(float w0) {
  ParamStore ps;
  ps.add("fc.weight", {3});
  ps.finalize();
  for (float& w : ps.value_span(0)) w = w0;
  return ps;
}

LookaheadConfig lookahead_config(double momentum, int64_t k, double alpha) {
  LookaheadConfig c;
  c.momentum = momentum;
  c.k = k;
  c.alpha = alpha;
  return c;
}

const AlignedVector<float>& slow_weights(Lookahead& opt) {
  for (const StateArray& s : opt.state())
    if (s.name == "slow_weights") return *s.data;
  ADD_FAILURE() << "no slow_weights state";
  static const AlignedVector<float> none;
  return none;
}

// w0 = 1, g = 0.5, lr 0.1, no momentum, k = 2, alpha = 0.5:
//   step 0: w = 0.95; step 1: w = 0.90, then phi = 1 + 0.5*(0.90 - 1) = 0.95 and w = phi
//   step 2: w = 0.90; step 3: w = 0.85, then phi = 0.95 + 0.5*(0.85 - 0.95) = 0.90 and w = phi
TEST(Lookahead, SlowWeightsFollowEveryKSteps) {
  ParamStore ps = lookahead_params(1.0f);
  Lookahead opt(lookahead_config(0.0, 2, 0.5));
  opt.init(ps);
  ASSERT_EQ(opt.state().size(), 1u);  // no momentum buffer without momentum
  EXPECT_EQ(slow_weights(opt)[0], 1.0f);
  for (float& g : ps.grad_span(0)) g = 0.5f;
  const float want_w[] = {0.95f, 0.95f, 0.90f, 0.90f}, want_phi[] = {1.0f, 0.95f, 0.95f, 0.90f};
  for (int s = 0; s < 4; ++s) {
    opt.step(ps, 0.1, s);
    EXPECT_NEAR(ps.value(0)[2], want_w[s], 1e-6) << "step " << s;
    EXPECT_NEAR(slow_weights(opt)[2], want_phi[s], 1e-6) << "step " << s;
  }
}

// w0 = 0, g = 1, lr 0.1, momentum 0.5, k = 2, alpha = 0.5:
//   step 0: v = 1, w = -0.1; step 1: v = 1.5, w = -0.25, then phi = w = -0.125
//   step 2: v = 1.75 (not reset by the synchronisation), w = -0.125 - 0.175 = -0.3
TEST(Lookahead, MomentumCarriesOnAcrossASynchronisation) {
  ParamStore ps = lookahead_params(0.0f);
  Lookahead opt(lookahead_config(0.5, 2, 0.5));
  opt.init(ps);
  for (float& g : ps.grad_span(0)) g = 1.0f;
  opt.step(ps, 0.1, 0);
  opt.step(ps, 0.1, 1);
  EXPECT_NEAR(ps.value(0)[0], -0.125f, 1e-6);
  opt.step(ps, 0.1, 2);
  EXPECT_NEAR(ps.value(0)[0], -0.3f, 1e-6);
  ASSERT_EQ(opt.state().size(), 2u);
  EXPECT_EQ(opt.state()[0].name, "momentum");
  EXPECT_NEAR((*opt.state()[0].data)[0], 1.75f, 1e-6);
}

TEST(Lookahead, OneStepAndAlphaOneIsSgd) {
  LookaheadConfig cfg = lookahead_config(0.9, 1, 1.0);
  cfg.nesterov = true;
  cfg.weight_decay = 0.01;
  ParamStore a = lookahead_params(1.0f), b = lookahead_params(1.0f);
  Lookahead lookahead(cfg);
  Sgd sgd(cfg);
  lookahead.init(a);
  sgd.init(b);
  for (int s = 0; s < 20; ++s) {
    for (ParamStore* ps : {&a, &b})
      for (float& g : ps->grad_span(0)) g = 0.3f * float(s % 4) - 0.4f;
    lookahead.step(a, 0.05, s);
    sgd.step(b, 0.05, s);
  }
  for (int i = 0; i < 3; ++i) EXPECT_NEAR(a.value(0)[i], b.value(0)[i], 1e-6);
}

// The slow weights are a copy of the weights at init(), also when init() runs again after new
// weights were loaded (Trainer::load_weights).
TEST(Lookahead, SlowWeightsStartFromTheWeightsAtInit) {
  ParamStore ps = lookahead_params(0.25f);
  Lookahead opt(lookahead_config(0.9, 5, 0.5));
  opt.init(ps);
  EXPECT_EQ(slow_weights(opt)[1], 0.25f);
  for (float& w : ps.value_span(0)) w = -2.0f;
  opt.init(ps, opt.settings());
  EXPECT_EQ(slow_weights(opt)[1], -2.0f);
}

// The trainer's order: mask the gradients, step, mask the weights; on_mask_change after the
// mask changes. Pruned at step 2 of a 4-step cycle, when the slow weight still holds the start.
TEST(Lookahead, AMaskSetMidCycleKeepsTheWeightAndItsSlowWeightAtZero) {
  ParamStore ps = lookahead_params(1.0f);
  LookaheadConfig cfg = lookahead_config(0.9, 4, 0.5);
  cfg.weight_decay = 0.01;
  Lookahead opt(cfg);
  opt.init(ps);
  Masks masks;
  masks.init(ps);
  for (int s = 0; s < 12; ++s) {
    if (s == 2) {
      EXPECT_EQ(slow_weights(opt)[0], 1.0f);
      masks.keep()[0] = 0.0f;
      masks.apply_to_weights(ps);
      opt.on_mask_change(masks);
    }
    for (float& g : ps.grad_span(0)) g = 0.5f;
    masks.apply_to_grads(ps);
    opt.step(ps, 0.1, s);
    masks.apply_to_weights(ps);
    if (s < 2) continue;
    EXPECT_EQ(ps.value(0)[0], 0.0f) << "step " << s;
    EXPECT_EQ(slow_weights(opt)[0], 0.0f) << "step " << s;
    EXPECT_NE(slow_weights(opt)[1], 0.0f) << "step " << s;
  }
}

}  // namespace
}  // namespace sculpt::optim

// Parameter groups (glob patterns, first match wins, inherited and explicit weight decay, lr
// scale, frozen) and the three decay styles worked by hand.
#include "optim/param_groups.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <string>

#include "core/error.h"
#include "core/param_store.h"
#include "io/recipe.h"
#include "optim/optimizer.h"

namespace sculpt::optim {
namespace {

TEST(GlobMatch, Cases) {
  struct Case {
    const char* pattern;
    const char* name;
    bool match;
  };
  const Case cases[] = {
      {"*", "fc1.weight", true},
      {"*", "", true},
      {"", "", true},
      {"", "fc1.weight", false},
      {"fc1.weight", "fc1.weight", true},
      {"fc1.weight", "fc1.weightx", false},
      {"*.bias", "fc1.bias", true},
      {"*.bias", "conv2.block.bias", true},  // '*' crosses dots
      {"*.bias", "bias", false},
      {"*.bias", "fc1.bias2", false},
      {"fc3.*", "fc3.weight", true},
      {"fc3.*", "fc3.", true},
      {"fc3.*", "fc3", false},
      {"fc3.*", "fc30.weight", false},
      {"fc?.weight", "fc1.weight", true},
      {"fc?.weight", "fc.weight", false},
      {"fc?.weight", "fc12.weight", false},
      {"?", "", false},
      {"???", "abc", true},
      {"fc1.*", "fc1.weight", true},
      {"fc1.**", "fc1.weight", true},
      {"fc1.weight*", "fc1.weight", true},  // trailing stars
      {"fc1.weight**", "fc1.weight", true},
      {"**", "", true},
      {"*weight", "fc1.weight", true},
      {"*weight", "fc1.weights", false},
      {"a*b*c", "aXXbYYc", true},
      {"a*b*c", "aXXbYY", false},
      {"*ab", "aab", true},
      {"*a*a", "aXa", true},  // backtracking
      {"*.*", "fc1.weight", true},
      {"*.*", "fc1weight", false},
      {"conv*", "fc1.weight", false},
      {"FC1.*", "fc1.weight", false},  // case-sensitive
  };
  for (const Case& c : cases)
    EXPECT_EQ(glob_match(c.pattern, c.name), c.match)
        << "'" << c.pattern << "' vs '" << c.name << "'";
}

// fc1.weight, fc1.bias, fc2.weight, fc2.bias (biases do not decay), fc3.weight.
ParamStore net() {
  ParamStore ps;
  const ParamFlags bias{.decays = false, .prunable = false};
  ps.add("fc1.weight", {4, 3});
  ps.add("fc1.bias", {4}, bias);
  ps.add("fc2.weight", {2, 4});
  ps.add("fc2.bias", {2}, bias);
  ps.add("fc3.weight", {2});
  ps.finalize();
  return ps;
}

ParamGroupConfig group(std::vector<std::string> params, double lr_scale = 1.0,
                       double weight_decay = -1.0, bool frozen = false) {
  ParamGroupConfig g;
  g.params = std::move(params);
  g.lr_scale = lr_scale;
  g.weight_decay = weight_decay;
  g.frozen = frozen;
  return g;
}

TEST(TensorSettings, WithoutGroupsWeightsDecayAndBiasesDoNot) {
  const ParamStore ps = net();
  const auto s = tensor_settings(ps, {}, 0.01);
  ASSERT_EQ(s.size(), ps.count());
  for (size_t i = 0; i < ps.count(); ++i) {
    EXPECT_EQ(s[i].lr_scale, 1.0) << ps.entry(i).name;
    EXPECT_FALSE(s[i].frozen) << ps.entry(i).name;
    EXPECT_EQ(s[i].weight_decay, ps.entry(i).flags.decays ? 0.01 : 0.0) << ps.entry(i).name;
  }
}

TEST(TensorSettings, FirstMatchingGroupWins) {
  const ParamStore ps = net();
  const auto s =
      tensor_settings(ps, {group({"fc2.*"}, 0.5), group({"*.weight"}, 2.0, -1, true)}, 0.0);
  EXPECT_EQ(s[*ps.find("fc2.weight")].lr_scale, 0.5);  // both match: the first decides
  EXPECT_FALSE(s[*ps.find("fc2.weight")].frozen);
  EXPECT_EQ(s[*ps.find("fc2.bias")].lr_scale, 0.5);
  EXPECT_EQ(s[*ps.find("fc1.weight")].lr_scale, 2.0);
  EXPECT_TRUE(s[*ps.find("fc1.weight")].frozen);
  EXPECT_TRUE(s[*ps.find("fc3.weight")].frozen);
  EXPECT_EQ(s[*ps.find("fc1.bias")].lr_scale, 1.0);  // no group
  EXPECT_FALSE(s[*ps.find("fc1.bias")].frozen);
}

TEST(TensorSettings, FirstMatchingPatternWithinAGroupAndAcrossGroups) {
  const ParamStore ps = net();
  // A later group whose pattern also matches an earlier group's tensors changes nothing there.
  const auto s =
      tensor_settings(ps, {group({"fc1.bias", "fc3.*"}, 3.0, 0.2), group({"*"}, 0.1, 0.0)}, 0.05);
  EXPECT_EQ(s[*ps.find("fc1.bias")].lr_scale, 3.0);
  EXPECT_EQ(s[*ps.find("fc1.bias")].weight_decay, 0.2);
  EXPECT_EQ(s[*ps.find("fc3.weight")].lr_scale, 3.0);
  EXPECT_EQ(s[*ps.find("fc1.weight")].lr_scale, 0.1);
  EXPECT_EQ(s[*ps.find("fc1.weight")].weight_decay, 0.0);
}

TEST(TensorSettings, InheritedWeightDecayStillSkipsBiases) {
  const ParamStore ps = net();
  const auto s = tensor_settings(ps, {group({"fc2.*"}, 0.5)}, 0.01);  // weight_decay -1
  EXPECT_EQ(s[*ps.find("fc2.weight")].weight_decay, 0.01);
  EXPECT_EQ(s[*ps.find("fc2.bias")].weight_decay, 0.0);
  EXPECT_EQ(s[*ps.find("fc1.weight")].weight_decay, 0.01);
  EXPECT_EQ(s[*ps.find("fc1.bias")].weight_decay, 0.0);
}

TEST(TensorSettings, ExplicitWeightDecayAppliesToBiasesToo) {
  const ParamStore ps = net();
  const auto s =
      tensor_settings(ps, {group({"fc2.*"}, 1.0, 0.3), group({"fc1.weight"}, 1.0, 0.0)}, 0.01);
  EXPECT_EQ(s[*ps.find("fc2.weight")].weight_decay, 0.3);
  EXPECT_EQ(s[*ps.find("fc2.bias")].weight_decay, 0.3);
  EXPECT_EQ(s[*ps.find("fc1.weight")].weight_decay, 0.0);  // explicit 0 turns decay off
  EXPECT_EQ(s[*ps.find("fc3.weight")].weight_decay, 0.01);
}

TEST(TensorSettings, LrScaleMultipliesTheScheduledRate) {
  ParamStore ps = net();
  for (float& g : ps.grads()) g = 1.0f;
  OptimConfig cfg;
  cfg.name = "sgd";
  cfg.set("lr", 0.5);
  cfg.groups = {group({"fc2.*"}, 0.25), group({"fc3.*"}, 1.0, -1.0, true)};
  auto opt = make_optimizer(cfg, ps);
  opt->step(ps, 0.2, 0);  // the scheduled rate, not the base 0.5
  EXPECT_FLOAT_EQ(ps.value(*ps.find("fc1.weight"))[0], -0.2f);
  EXPECT_FLOAT_EQ(ps.value(*ps.find("fc2.weight"))[0], -0.05f);
  EXPECT_FLOAT_EQ(ps.value(*ps.find("fc2.bias"))[1], -0.05f);
  EXPECT_EQ(ps.value(*ps.find("fc3.weight"))[0], 0.0f);  // frozen
}

// A buffer (BatchNorm's running statistics) is frozen whatever a group says: Lookahead, which
// pulls every weight back to its slow copy, would otherwise undo what the layer wrote.
TEST(TensorSettings, BuffersAreNeverUpdatedEvenWhenAGroupMatchesThem) {
  ParamStore ps;
  const size_t w = ps.add("fc.weight", {3});
  const size_t stat =
      ps.add("bn.running_mean", {3}, {.decays = false, .prunable = false, .trainable = false});
  ps.finalize();
  OptimConfig cfg;
  cfg.name = "lookahead";
  cfg.set("k", int64_t{1});
  cfg.groups = {group({"*"})};
  auto opt = make_optimizer(cfg, ps);
  std::fill_n(ps.value(stat), 3, 5.0f);  // the layer's forward writes its statistics
  for (float& g : ps.grads()) g = 1.0f;
  opt->step(ps, 0.1, 0);
  EXPECT_EQ(ps.value(stat)[0], 5.0f);
  EXPECT_NE(ps.value(w)[0], 0.0f);
  EXPECT_TRUE(opt->settings()[stat].frozen);
}

TEST(TensorSettings, APatternMatchingNothingListsTheParameters) {
  const ParamStore ps = net();
  try {
    tensor_settings(ps, {group({"fc1.*"}), group({"*.bias", "fc4.*"})}, 0.0);
    ADD_FAILURE() << "fc4.* accepted";
  } catch (const ConfigError& e) {
    const std::string msg = e.what();
    EXPECT_NE(msg.find("optim.groups[1]"), std::string::npos) << msg;
    EXPECT_NE(msg.find("fc4.*"), std::string::npos) << msg;
    for (const char* name : {"fc1.weight", "fc1.bias", "fc2.weight", "fc2.bias", "fc3.weight"})
      EXPECT_NE(e.hint().find(name), std::string::npos) << name << " missing from: " << msg;
  }
  OptimConfig cfg;
  cfg.groups = {group({"conv1.*"})};
  EXPECT_THROW(make_optimizer(cfg, ps), ConfigError);
}

// ---- Decay styles, by hand ---------------------------------------------------------------
//
// One tensor "w" (decays) and one "b" (bias, no decay), every weight 2, gradient 0.5,
// weight_decay 0.1, base lr 0.1, scheduled lr_t = 0.05 (the schedule's multiplier is 0.5):
//   l2:                 d = g + wd*w = 0.7;              w = 2 - 0.05*0.7             = 1.965
//   decoupled:          keep = 1 - lr_t*wd = 0.995;      w = 0.995*2 - 0.05*0.5        = 1.965
//   decoupled-schedule: keep = 1 - (lr_t/lr)*wd = 0.95;  w = 0.95*2 - 0.05*0.5         = 1.875
//   the bias in every style:                             b = 2 - 0.05*0.5              = 1.975
// (for plain SGD, l2 and decoupled coincide; with momentum they part, see the next test).
struct DecayCase {
  const char* style;
  float w1;      // after one plain SGD step
  float w2_mom;  // after two SGD steps with momentum 0.9 (pytorch form)
  float w_adam;  // after one Adam step
};

ParamStore two_tensors() {
  ParamStore ps;
  ps.add("w", {5});
  ps.add("b", {3}, {.decays = false, .prunable = false});
  ps.finalize();
  for (float& x : ps.values()) x = 2.0f;
  for (size_t i = 0; i < ps.count(); ++i)
    for (float& g : ps.grad_span(i)) g = 0.5f;
  return ps;
}

// Momentum 0.9, two steps at lr_t = 0.05 (grads stay 0.5):
//   l2:        s0: d = 0.7, v = 0.7, w = 1.965
//              s1: d = 0.5 + 0.1*1.965 = 0.6965, v = 0.63 + 0.6965 = 1.3265, w = 1.965 - 0.066325
//                  = 1.898675
//   decoupled: s0: v = 0.5, w = 0.995*2 - 0.025 = 1.965
//              s1: v = 0.45 + 0.5 = 0.95, w = 0.995*1.965 - 0.0475 = 1.907675
//   schedule:  s0: w = 0.95*2 - 0.025 = 1.875;  s1: w = 0.95*1.875 - 0.0475 = 1.73375
//   bias:      s0: 2 - 0.025 = 1.975;  s1: 1.975 - 0.0475 = 1.9275
// Adam, one step (m/(1-b1) = d, sqrt(v/(1-b2)) = |d|, so the step is lr_t*d/(|d| + eps)):
//   l2:        w = 2 - 0.05*0.7/(0.7 + 1e-8) = 1.95
//   decoupled: w = 0.995*2 - 0.05 = 1.94;  schedule: w = 0.95*2 - 0.05 = 1.85;  bias: 1.95
const DecayCase kDecayCases[] = {
    {"l2", 1.965f, 1.898675f, 1.95f},
    {"decoupled", 1.965f, 1.907675f, 1.94f},
    {"decoupled-schedule", 1.875f, 1.73375f, 1.85f},
};

OptimConfig decay_config(const char* name, const char* style) {
  OptimConfig cfg;
  cfg.name = name;
  cfg.set("lr", 0.1).set("weight_decay", 0.1).set("decay_style", std::string(style));
  return cfg;
}

TEST(DecayStyle, OneSgdStepByHand) {
  for (const DecayCase& c : kDecayCases) {
    ParamStore ps = two_tensors();
    auto opt = make_optimizer(decay_config("sgd", c.style), ps);
    opt->step(ps, 0.05, 0);
    for (float w : ps.value_span(0)) EXPECT_NEAR(w, c.w1, 1e-6) << c.style;
    for (float b : ps.value_span(1)) EXPECT_NEAR(b, 1.975f, 1e-6) << c.style;
  }
}

TEST(DecayStyle, TwoSgdMomentumStepsByHand) {
  for (const DecayCase& c : kDecayCases) {
    ParamStore ps = two_tensors();
    OptimConfig cfg = decay_config("sgd", c.style);
    cfg.set("momentum", 0.9);
    auto opt = make_optimizer(cfg, ps);
    opt->step(ps, 0.05, 0);
    opt->step(ps, 0.05, 1);
    for (float w : ps.value_span(0)) EXPECT_NEAR(w, c.w2_mom, 1e-6) << c.style;
    for (float b : ps.value_span(1)) EXPECT_NEAR(b, 1.9275f, 1e-6) << c.style;
  }
}

TEST(DecayStyle, OneAdamStepByHand) {
  for (const DecayCase& c : kDecayCases) {
    ParamStore ps = two_tensors();
    auto opt = make_optimizer(decay_config("adam", c.style), ps);
    opt->step(ps, 0.05, 0);
    for (float w : ps.value_span(0)) EXPECT_NEAR(w, c.w_adam, 1e-6) << c.style;
    for (float b : ps.value_span(1)) EXPECT_NEAR(b, 1.95f, 1e-6) << c.style;
  }
}

// At the base rate decoupled-schedule decays by wd itself each step, decoupled by lr*wd.
TEST(DecayStyle, AtTheBaseRateScheduleDecaysByWd) {
  for (const char* style : {"decoupled", "decoupled-schedule"}) {
    ParamStore ps = two_tensors();
    for (float& g : ps.grads()) g = 0.0f;
    auto opt = make_optimizer(decay_config("sgd", style), ps);
    opt->step(ps, 0.1, 0);
    const float expected = std::string(style) == "decoupled" ? 2.0f * 0.99f : 2.0f * 0.9f;
    for (float w : ps.value_span(0)) EXPECT_NEAR(w, expected, 1e-6) << style;
    for (float b : ps.value_span(1)) EXPECT_EQ(b, 2.0f) << style;
  }
}

// A group's explicit weight decay reaches a bias, in each style.
TEST(DecayStyle, GroupWeightDecayAppliesToTheBias) {
  for (const DecayCase& c : kDecayCases) {
    ParamStore ps = two_tensors();
    OptimConfig cfg = decay_config("sgd", c.style);
    cfg.groups = {group({"b"}, 1.0, 0.1)};
    auto opt = make_optimizer(cfg, ps);
    opt->step(ps, 0.05, 0);
    for (float b : ps.value_span(1)) EXPECT_NEAR(b, c.w1, 1e-6) << c.style;
  }
}

}  // namespace
}  // namespace sculpt::optim

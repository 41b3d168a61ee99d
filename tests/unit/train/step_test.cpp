// The training step: one step equals forward, mean loss, backward and the SGD update done by
// hand; non-finite gradients stop the run naming the tensor, or skip the step untouched.
#include "train/step.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <vector>

#include "clip/clipper.h"
#include "core/error.h"
#include "loss/registry.h"
#include "optim/sgd.h"
#include "core/masks.h"
#include "sched/schedule.h"

namespace sculpt::train {
namespace {

// A single Linear 2 -> 1 with MSE: small enough to compute the step by hand.
struct Tiny {
  nn::Model model =
      nn::Model::build({{{.type = "linear", .name = "fc1", .args = {{"out", 1}}}}}, {2});
  ParamStore ps;
  std::unique_ptr<loss::Loss> loss = loss::make_loss("mse");
  optim::Sgd sgd{{}};
  sched::Schedule lr = sched::Schedule::constant(0.5);
  clip::NoClip clip;
  Masks masks;
  std::vector<float> dlogits = std::vector<float>(4);
  Tiny() {
    model.declare(ps);
    ps.finalize();
    model.reserve(4);
    sgd.init(ps);
    ps.value(0)[0] = 1.0f;  // w = [1, -1], b = 0.5
    ps.value(0)[1] = -1.0f;
    ps.value(1)[0] = 0.5f;
  }
  StepParts parts(NonFinite policy) {
    return {.model = model,
            .params = ps,
            .loss = *loss,
            .optimizer = sgd,
            .schedule = lr,
            .clipper = clip,
            .masks = masks,
            .task = data::Task::kRegression,
            .nonfinite = policy,
            .dlogits = dlogits.data()};
  }
};

// x = [[1, 2], [3, 1]], y = [0, 1]: predictions -0.5, 2.5; residuals r = -0.5, 1.5;
// loss = mean(r^2) = 1.25; dL/dpred = r (2/n = 1); dw = [-0.5*1 + 1.5*3, -0.5*2 + 1.5*1] =
// [4, 0.5]; db = 1; w <- w - 0.5 * dw = [-1, -1.25], b <- 0.
TEST(TrainStep, OneStepMatchesTheUpdateWorkedByHand) {
  Tiny t;
  auto parts = t.parts(NonFinite::kStop);
  const float x[] = {1, 2, 3, 1};
  const float y[] = {0, 1};
  StepResult r = train_step(parts, {.x = x, .y = y, .n = 2}, 0, 0);
  EXPECT_NEAR(r.loss, 1.25, 1e-6);
  EXPECT_EQ(r.lr, 0.5);
  EXPECT_FALSE(r.skipped);
  EXPECT_NEAR(t.ps.value(0)[0], -1.0f, 1e-6);
  EXPECT_NEAR(t.ps.value(0)[1], -1.25f, 1e-6);
  EXPECT_NEAR(t.ps.value(1)[0], 0.0f, 1e-6);
}

TEST(TrainStep, NonFiniteGradientStopsNamingTheTensor) {
  Tiny t;
  auto parts = t.parts(NonFinite::kStop);
  const float nan = std::numeric_limits<float>::quiet_NaN();
  const float x[] = {nan, 2, 3, 1};
  const float y[] = {0, 1};
  try {
    train_step(parts, {.x = x, .y = y, .n = 2}, 3, 0);
    FAIL() << "expected a NumericError";
  } catch (const NumericError& e) {
    EXPECT_NE(std::string(e.what()).find("fc1.weight"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("step 3"), std::string::npos) << e.what();
  }
}

TEST(TrainStep, SkipPolicyLeavesTheWeightsUntouched) {
  Tiny t;
  auto parts = t.parts(NonFinite::kSkip);
  const float inf = std::numeric_limits<float>::infinity();
  const float x[] = {1, 2, 3, 1};
  const float y[] = {inf, 1};
  StepResult r = train_step(parts, {.x = x, .y = y, .n = 2}, 0, 0);
  EXPECT_TRUE(r.skipped);
  EXPECT_EQ(t.ps.value(0)[0], 1.0f);
  EXPECT_EQ(t.ps.value(0)[1], -1.0f);
  EXPECT_EQ(t.ps.value(1)[0], 0.5f);
}

// A clipper that records the gradients it is given, to pin the order of the step's stages.
struct SpyClipper final : clip::Clipper {
  std::vector<float> seen;
  int calls = 0;
  clip::ClipReport apply(ParamStore& ps) override {
    ++calls;
    seen.assign(ps.grads().begin(), ps.grads().end());
    return {};
  }
};

// The order ARCHITECTURE.md fixes: non-finite check, then masks on the gradients, then the
// clipper (so masked entries never count in its norms), then the optimizer, then the masks
// on the weights. Same data as the hand-worked step: dw = [4, 0.5], db = 1.
TEST(TrainStep, OrderIsCheckThenMaskThenClipThenOptimizerThenMask) {
  Tiny t;
  SpyClipper spy;
  t.masks.init(t.ps);
  t.masks.keep()[t.ps.entry(0).offset] = 0.0f;  // prune w[0]
  StepParts parts{.model = t.model,
                  .params = t.ps,
                  .loss = *t.loss,
                  .optimizer = t.sgd,
                  .schedule = t.lr,
                  .clipper = spy,
                  .masks = t.masks,
                  .task = data::Task::kRegression,
                  .nonfinite = NonFinite::kStop,
                  .dlogits = t.dlogits.data()};
  const float x[] = {1, 2, 3, 1};
  const float y[] = {0, 1};
  train_step(parts, {.x = x, .y = y, .n = 2}, 0, 0);
  ASSERT_EQ(spy.calls, 1);
  EXPECT_EQ(spy.seen[t.ps.entry(0).offset], 0.0f);  // masked before the clipper saw it
  EXPECT_EQ(spy.seen[t.ps.entry(0).offset + 1], 0.5f);
  EXPECT_EQ(spy.seen[t.ps.entry(1).offset], 1.0f);
  EXPECT_EQ(t.ps.value(0)[0], 0.0f);  // the weight is masked after the update
  EXPECT_EQ(t.ps.value(0)[1], -1.25f);
  const float nan = std::numeric_limits<float>::quiet_NaN();
  const float bad[] = {nan, 2, 3, 1};
  EXPECT_THROW(train_step(parts, {.x = bad, .y = y, .n = 2}, 1, 0), NumericError);
  EXPECT_EQ(spy.calls, 1);  // the check comes first: the clipper never sees a NaN
}

TEST(TrainStep, CountCorrectUsesArgmaxAndTheBinaryThreshold) {
  const float logits3[] = {0.1f, 0.9f, 0.0f, 2.0f, 1.0f, 0.5f};
  const int32_t labels3[] = {1, 2};
  EXPECT_EQ(count_correct(logits3, {.labels = labels3, .n = 2}, 3, data::Task::kClassification), 1);
  const float logits1[] = {0.3f, -0.2f, 0.1f};
  const int32_t labels1[] = {1, 0, 0};
  EXPECT_EQ(count_correct(logits1, {.labels = labels1, .n = 3}, 1, data::Task::kBinary), 2);
}

}  // namespace
}  // namespace sculpt::train

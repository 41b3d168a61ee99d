// AutoClip against the paper's rule on a hand-checkable sequence of norms: the limit is
// numpy.percentile(history + [current], p), then torch's clip_grad_norm_(limit) factor
// limit / (norm + 1e-6). History windows, state round trips and bad states.
#include "clip/autoclip.h"

#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "core/error.h"

namespace sculpt::clip {
namespace {

TEST(AutoClip, PercentileIsNumpysLinearInterpolation) {
  // numpy.percentile([1, 2, 3, 4, 5], p) for p = 10, 50, 100, 0.0001 and of [10, 20] at 25.
  EXPECT_DOUBLE_EQ(percentile_of_sorted({1, 2, 3, 4, 5}, 10), 1.4);
  EXPECT_DOUBLE_EQ(percentile_of_sorted({1, 2, 3, 4, 5}, 50), 3.0);
  EXPECT_DOUBLE_EQ(percentile_of_sorted({1, 2, 3, 4, 5}, 100), 5.0);
  EXPECT_NEAR(percentile_of_sorted({1, 2, 3, 4, 5}, 1e-4), 1.000004, 1e-12);
  EXPECT_DOUBLE_EQ(percentile_of_sorted({10, 20}, 25), 12.5);
  EXPECT_DOUBLE_EQ(percentile_of_sorted({7}, 10), 7.0);
}

struct OneTensor {
  ParamStore ps;
  OneTensor() {
    ps.add("w", {2});
    ps.finalize();
  }
  // Gradient (0.6 n, 0.8 n): norm n.
  ClipReport step(AutoClipper& c, float n) {
    ps.grad(0)[0] = 0.6f * n;
    ps.grad(0)[1] = 0.8f * n;
    return c.apply(ps);
  }
  double norm() const { return std::hypot(double(ps.grad(0)[0]), double(ps.grad(0)[1])); }
};

TEST(AutoClip, ClipsToThePercentileOfAllNormsSoFar) {
  OneTensor t;
  AutoClipper c(AutoClipConfig{.percentile = 50, .history = 0});
  // history [3]: limit 3, factor 3 / (3 + 1e-6): the paper's code scales by that too.
  ClipReport r = t.step(c, 3);
  EXPECT_NEAR(c.last_limit(), 3.0, 1e-6);
  EXPECT_NEAR(r.scale, 3.0 / (3.0 + 1e-6), 1e-7);
  // history [3, 4]: limit 3.5
  r = t.step(c, 4);
  EXPECT_NEAR(c.last_limit(), 3.5, 1e-6);
  EXPECT_NEAR(t.norm(), 3.5, 1e-5);
  EXPECT_EQ(r.clipped, 1);
  EXPECT_NEAR(r.norm_before, 4.0, 1e-6);
  EXPECT_NEAR(r.norm_after, 3.5, 1e-5);
  // history [1, 3, 4]: limit 3 > 1: untouched, bit for bit
  r = t.step(c, 1);
  EXPECT_NEAR(c.last_limit(), 3.0, 1e-6);
  EXPECT_EQ(t.ps.grad(0)[0], 0.6f);
  EXPECT_EQ(t.ps.grad(0)[1], 0.8f);
  EXPECT_FALSE(r.clipped_any);
  EXPECT_EQ(r.scale, 1.0);
  // history [1, 3, 4, 10]: position 1.5 -> 3.5
  r = t.step(c, 10);
  EXPECT_NEAR(c.last_limit(), 3.5, 1e-6);
  EXPECT_NEAR(t.norm(), 3.5, 1e-5);
  EXPECT_NEAR(r.scale, 3.5 / (10 + 1e-6), 1e-7);
  const std::vector<double> h = c.state();
  ASSERT_EQ(h.size(), 4u);
  EXPECT_NEAR(h[0], 3, 1e-6);
  EXPECT_NEAR(h[3], 10, 1e-5);  // the norm before clipping, oldest first
}

TEST(AutoClip, HistoryKeepsTheMostRecentNorms) {
  OneTensor t;
  AutoClipper c(AutoClipConfig{.percentile = 50, .history = 2});
  t.step(c, 3);
  t.step(c, 4);
  t.step(c, 1);  // window [4, 1]: limit 2.5 > 1
  EXPECT_NEAR(c.last_limit(), 2.5, 1e-6);
  t.step(c, 10);  // window [1, 10]: limit 5.5
  EXPECT_NEAR(c.last_limit(), 5.5, 1e-6);
  EXPECT_NEAR(t.norm(), 5.5, 1e-5);
  EXPECT_EQ(c.state().size(), 2u);
}

TEST(AutoClip, StateRoundTripContinuesTheSameWay) {
  OneTensor a, b;
  AutoClipper first(AutoClipConfig{.percentile = 25});
  for (float n : {5.0f, 1.0f, 8.0f, 2.0f}) a.step(first, n);
  AutoClipper resumed(AutoClipConfig{.percentile = 25});
  resumed.set_state(first.state());
  EXPECT_EQ(resumed.state(), first.state());
  const ClipReport ra = a.step(first, 6), rb = b.step(resumed, 6);
  EXPECT_EQ(ra.scale, rb.scale);
  EXPECT_EQ(a.ps.grad(0)[0], b.ps.grad(0)[0]);
  EXPECT_EQ(first.last_limit(), resumed.last_limit());
  // a smaller window keeps the most recent values of a longer history
  AutoClipper windowed(AutoClipConfig{.history = 2});
  windowed.set_state({1, 2, 3});
  EXPECT_EQ(windowed.state(), (std::vector<double>{2, 3}));
}

TEST(AutoClip, BadStatesAreRejected) {
  AutoClipper c(AutoClipConfig{});
  EXPECT_THROW(c.set_state({1.0, std::nan("")}), NumericError);
  EXPECT_THROW(c.set_state({-1.0}), NumericError);
  AutoClipper ok(AutoClipConfig{});
  EXPECT_NO_THROW(ok.set_state({}));
  EXPECT_TRUE(ok.state().empty());
}

TEST(AutoClip, StatelessClippersRefuseAState) {
  NoClip none;
  EXPECT_TRUE(none.state().empty());
  EXPECT_NO_THROW(none.set_state({}));
  EXPECT_THROW(none.set_state({1.0}), NumericError);
}

}  // namespace
}  // namespace sculpt::clip

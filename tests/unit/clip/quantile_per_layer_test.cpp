// quantile-per-layer on a hand-checkable sequence: each tensor is clipped to the percentile
// (numpy's linear) of its own norms, the current one included, with torch's factor
// limit / (norm + 1e-6), whatever the other tensor does. History windows, the flat state's
// round trip and every malformed state.
#include "clip/quantile_per_layer.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <vector>

#include "core/error.h"

namespace sculpt::clip {
namespace {

// Tensors "a" and "b" of two elements; the gradient (0.6 n, 0.8 n) has norm n.
struct TwoTensors {
  ParamStore ps;
  TwoTensors() {
    ps.add("a", {2});
    ps.add("b", {2});
    ps.finalize();
  }
  ClipReport step(QuantilePerLayerClipper& c, float a, float b) {
    for (size_t t = 0; t < 2; ++t) {
      const float n = t == 0 ? a : b;
      ps.grad(t)[0] = 0.6f * n;
      ps.grad(t)[1] = 0.8f * n;
    }
    return c.apply(ps);
  }
  double norm(size_t t) const { return std::hypot(double(ps.grad(t)[0]), double(ps.grad(t)[1])); }
};

// Norms of float gradients: equal to within float rounding.
void expect_norms(const std::vector<double>& got, const std::vector<double>& want) {
  ASSERT_EQ(got.size(), want.size());
  for (size_t i = 0; i < got.size(); ++i) EXPECT_NEAR(got[i], want[i], 1e-5) << i;
}

TEST(QuantilePerLayer, EachTensorIsClippedToItsOwnPercentile) {
  TwoTensors t;
  QuantilePerLayerClipper c(QuantilePerLayerConfig{.percentile = 50, .history = 0});
  // a [3], b [10]: limits 3 and 10, both scaled by limit / (limit + 1e-6).
  ClipReport r = t.step(c, 3, 10);
  expect_norms(c.last_limits(), {3, 10});
  EXPECT_EQ(r.clipped, 2);
  EXPECT_NEAR(r.scale, 3.0 / (3.0 + 1e-6), 1e-7);
  // a [3, 4]: limit 3.5 < 4, clipped; b [10, 1]: limit 5.5 > 1, untouched bit for bit.
  r = t.step(c, 4, 1);
  EXPECT_NEAR(c.last_limits()[0], 3.5, 1e-6);
  EXPECT_NEAR(c.last_limits()[1], 5.5, 1e-6);
  EXPECT_NEAR(t.norm(0), 3.5, 1e-5);
  EXPECT_EQ(t.ps.grad(1)[0], 0.6f);
  EXPECT_EQ(t.ps.grad(1)[1], 0.8f);
  EXPECT_EQ(r.clipped, 1);
  EXPECT_TRUE(r.clipped_any);
  EXPECT_NEAR(r.scale, 3.5 / (4 + 1e-6), 1e-7);
  EXPECT_NEAR(r.norm_before, std::sqrt(17.0), 1e-5);
  EXPECT_NEAR(r.norm_after, std::sqrt(3.5 * 3.5 + 1), 1e-5);
  // a [3, 4, 1]: limit 3 > 1, untouched; b [10, 1, 20]: limit 10, clipped.
  r = t.step(c, 1, 20);
  EXPECT_NEAR(c.last_limits()[0], 3.0, 1e-6);
  EXPECT_NEAR(c.last_limits()[1], 10.0, 1e-5);
  EXPECT_EQ(t.ps.grad(0)[0], 0.6f);
  EXPECT_NEAR(t.norm(1), 10.0, 1e-5);
  EXPECT_EQ(r.clipped, 1);
  // The state: 2 tensors, 3 norms each, then each tensor's norms before clipping, oldest first.
  expect_norms(c.state(), {2, 3, 3, 3, 4, 1, 10, 1, 20});
}

TEST(QuantilePerLayer, AZeroGradientIsRecordedAndLeftAlone) {
  TwoTensors t;
  QuantilePerLayerClipper c(QuantilePerLayerConfig{.percentile = 50});
  t.step(c, 5, 5);
  const ClipReport r = t.step(c, 2, 0);  // a [5, 2]: limit 3.5 > 2; b [5, 0]: nothing to scale
  EXPECT_FALSE(r.clipped_any);
  EXPECT_EQ(r.scale, 1.0);
  expect_norms(c.state(), {2, 2, 2, 5, 2, 5, 0});
}

TEST(QuantilePerLayer, HistoryKeepsEachTensorsMostRecentNorms) {
  TwoTensors t;
  QuantilePerLayerClipper c(QuantilePerLayerConfig{.percentile = 50, .history = 2});
  t.step(c, 3, 1);
  t.step(c, 4, 1);
  t.step(c, 1, 1);  // a [4, 1]: limit 2.5
  EXPECT_NEAR(c.last_limits()[0], 2.5, 1e-6);
  t.step(c, 10, 1);  // a [1, 10]: limit 5.5
  EXPECT_NEAR(t.norm(0), 5.5, 1e-5);
  EXPECT_EQ(c.state().size(), 1u + 2u + 4u);
  // a smaller window keeps the most recent norms of a longer saved history
  QuantilePerLayerClipper windowed(QuantilePerLayerConfig{.history = 2});
  windowed.set_state({2, 3, 1, 1, 2, 3, 7});
  EXPECT_EQ(windowed.state(), (std::vector<double>{2, 2, 1, 2, 3, 7}));
}

TEST(QuantilePerLayer, StateRoundTripContinuesTheSameWay) {
  TwoTensors a, b;
  QuantilePerLayerClipper first(QuantilePerLayerConfig{.percentile = 25});
  for (float n : {5.0f, 1.0f, 8.0f, 2.0f}) a.step(first, n, 9 - n);
  QuantilePerLayerClipper resumed(QuantilePerLayerConfig{.percentile = 25});
  resumed.set_state(first.state());
  EXPECT_EQ(resumed.state(), first.state());
  const ClipReport ra = a.step(first, 6, 7), rb = b.step(resumed, 6, 7);
  EXPECT_EQ(ra.scale, rb.scale);
  EXPECT_EQ(ra.clipped, rb.clipped);
  for (size_t t = 0; t < 2; ++t) EXPECT_EQ(a.ps.grad(t)[1], b.ps.grad(t)[1]);
  EXPECT_EQ(first.last_limits(), resumed.last_limits());
  resumed.set_state({});
  EXPECT_TRUE(resumed.state().empty());
}

TEST(QuantilePerLayer, MalformedStatesAreRejectedAndChangeNothing) {
  const double nan = std::nan(""), inf = std::numeric_limits<double>::infinity();
  const std::vector<std::vector<double>> bad = {
      {0},                // no tensors
      {2, 1},             // two tensors, one count
      {1.5, 1, 2},        // a fractional number of tensors
      {1, 2, 3},          // two norms announced, one given
      {1, 0.5, 3},        // a fractional count
      {1, -1, 3},         // a negative count
      {1, 1, 3, 4},       // a value after the histories
      {1, 1, -1},         // a negative norm
      {1, 1, nan},        // a NaN norm
      {2, 1, 1, 5, inf},  // an infinite norm
      {nan, 1, 1},        // a NaN count
  };
  TwoTensors t;
  QuantilePerLayerClipper c(QuantilePerLayerConfig{});
  t.step(c, 1, 2);
  const std::vector<double> before = c.state();
  for (const std::vector<double>& s : bad) {
    EXPECT_THROW(c.set_state(s), NumericError) << ::testing::PrintToString(s);
    EXPECT_EQ(c.state(), before);
  }
  try {
    c.set_state({1, 2, 3});
  } catch (const NumericError& e) {
    EXPECT_NE(std::string(e.what()).find("quantile-per-layer state"), std::string::npos)
        << e.what();
  }
}

TEST(QuantilePerLayer, HistoriesOfAnotherNumberOfTensorsAreAShapeError) {
  TwoTensors t;
  QuantilePerLayerClipper c(QuantilePerLayerConfig{});
  c.set_state({1, 1, 3.0});
  EXPECT_THROW(t.step(c, 1, 1), ShapeError);
}

}  // namespace
}  // namespace sculpt::clip

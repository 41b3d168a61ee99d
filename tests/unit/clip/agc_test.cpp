// Adaptive gradient clipping against the paper's formula on hand-checkable tensors:
// g_i <- g_i * lambda * max(||w_i||, eps) / ||g_i|| when ||g_i|| / max(||w_i||, eps) > lambda.
#include "clip/agc.h"

#include <gtest/gtest.h>

#include <cmath>
#include <vector>

namespace sculpt::clip {
namespace {

void set(ParamStore& ps, size_t t, std::vector<float> w, std::vector<float> g) {
  ASSERT_EQ(static_cast<int64_t>(w.size()), ps.entry(t).size);
  std::copy(w.begin(), w.end(), ps.value(t));
  std::copy(g.begin(), g.end(), ps.grad(t));
}

std::vector<float> grad(ParamStore& ps, size_t t) {
  return {ps.grad(t), ps.grad(t) + ps.entry(t).size};
}

TEST(Agc, UnitsAreRowsAndVectorsAreOneUnit) {
  EXPECT_EQ(agc_units({300, 784}), std::make_pair(int64_t{300}, int64_t{784}));
  EXPECT_EQ(agc_units({6, 1, 5, 5}), std::make_pair(int64_t{6}, int64_t{25}));
  EXPECT_EQ(agc_units({10}), std::make_pair(int64_t{1}, int64_t{10}));
  EXPECT_EQ(agc_units({5, 1}), std::make_pair(int64_t{1}, int64_t{5}));  // squeezed: a vector
  EXPECT_EQ(agc_units({1, 7}), std::make_pair(int64_t{1}, int64_t{7}));
  EXPECT_EQ(agc_units({}), std::make_pair(int64_t{1}, int64_t{1}));  // a scalar
}

TEST(Agc, ClipsEachUnitToLambdaTimesItsWeightNorm) {
  ParamStore ps;
  ps.add("a.weight", {2, 3});
  ps.add("a.bias", {2});
  ps.add("c.weight", {2, 2});
  ps.finalize();
  // a row 0: ||w|| = 5, ||g|| = 0.5, ratio 0.1 > 0.05: factor 0.05 * 5 / 0.5 = 0.5.
  // a row 1: ||w|| = 0 -> eps = 1e-3, limit 5e-5; ||g|| = 1e-4: factor 0.5.
  set(ps, 0, {3, 4, 0, 0, 0, 0}, {0.3f, 0.4f, 0, 0, 6e-5f, 8e-5f});
  // bias, one unit: ||w|| = 1, ||g|| = 0.5: factor 0.05 / 0.5 = 0.1.
  set(ps, 1, {0.6f, 0.8f}, {0.3f, 0.4f});
  // c row 0: ratio 0.01 <= 0.05, untouched; row 1: ||w|| = 2, ||g|| = 0.2: factor 0.5.
  set(ps, 2, {1, 0, 0, 2}, {0.01f, 0, 0, 0.2f});
  AgcClipper agc(AgcConfig{.clipping = 0.05, .eps = 1e-3});
  const ClipReport r = agc.apply(ps);

  const std::vector<float> a = grad(ps, 0), b = grad(ps, 1), c = grad(ps, 2);
  const std::vector<float> want_a = {0.15f, 0.2f, 0, 0, 3e-5f, 4e-5f};
  for (size_t i = 0; i < a.size(); ++i)
    EXPECT_NEAR(a[i], want_a[i], 1e-6 * std::fabs(want_a[i]) + 1e-12);
  EXPECT_NEAR(b[0], 0.03f, 1e-8);
  EXPECT_NEAR(b[1], 0.04f, 1e-8);
  EXPECT_EQ(c[0], 0.01f);  // below the limit: bit for bit
  EXPECT_EQ(c[1], 0.0f);
  EXPECT_EQ(c[2], 0.0f);
  EXPECT_NEAR(c[3], 0.1f, 1e-8);

  EXPECT_EQ(r.clipped, 4);  // a row 0, a row 1, the bias, c row 1
  EXPECT_TRUE(r.clipped_any);
  EXPECT_NEAR(r.scale, 0.1, 1e-7);
  const double before = 0.25 + 1e-8 + 0.25 + 1e-4 + 0.04;
  const double after = 0.0625 + 0.25e-8 + 0.0025 + 1e-4 + 0.01;
  EXPECT_NEAR(r.norm_before, std::sqrt(before), 1e-7);
  EXPECT_NEAR(r.norm_after, std::sqrt(after), 1e-7);
}

TEST(Agc, BelowTheLimitNothingChanges) {
  ParamStore ps;
  ps.add("w", {3, 2});
  ps.finalize();
  set(ps, 0, {1, 1, 2, 0, 0, 0}, {0.01f, -0.01f, 0.02f, 0.0f, 1e-6f, 0.0f});
  const std::vector<float> before = grad(ps, 0);
  // rows: ratio 0.01, 0.01 and (zero weights, eps 1e-3) 1e-6 / 1e-3 = 1e-3; lambda 0.01 keeps all
  const ClipReport r = AgcClipper(AgcConfig{}).apply(ps);
  EXPECT_EQ(grad(ps, 0), before);
  EXPECT_FALSE(r.clipped_any);
  EXPECT_EQ(r.clipped, 0);
  EXPECT_EQ(r.scale, 1.0);
  EXPECT_EQ(r.norm_after, r.norm_before);
}

// A zero weight with eps: the limit is lambda * eps, so a zero-initialised unit can still move.
TEST(Agc, ZeroWeightsUseTheEpsFloor) {
  ParamStore ps;
  ps.add("b", {4});
  ps.finalize();
  set(ps, 0, {0, 0, 0, 0}, {1, 0, 0, 0});
  AgcClipper(AgcConfig{.clipping = 0.1, .eps = 0.5}).apply(ps);
  EXPECT_NEAR(ps.grad(0)[0], 0.05f, 1e-8);  // 0.1 * 0.5 / 1
}

}  // namespace
}  // namespace sculpt::clip

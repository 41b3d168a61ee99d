// exp_fast, sigmoid_fast and tanh_fast against the standard library over their whole range,
// on a dense grid and at the edges.
#include "kernels/fast_math.h"

#include <gtest/gtest.h>

#include <cmath>

namespace sculpt::kernels {
namespace {

TEST(FastMath, ExpIsWithinTwoUlpAndNeverInfinite) {
  double worst = 0.0;
  for (float x = -87.0f; x <= 88.0f; x += 0.0137f) {
    const double want = std::exp(static_cast<double>(x));
    worst = std::max(worst, std::fabs(exp_fast(x) - want) / want);
  }
  EXPECT_LT(worst, 2.5e-7);  // 2 ulp of float is 2.4e-7 relative at most
  EXPECT_TRUE(std::isfinite(exp_fast(1000.0f)));
  EXPECT_GT(exp_fast(-1000.0f), 0.0f);
  EXPECT_EQ(exp_fast(0.0f), 1.0f);
}

TEST(FastMath, SigmoidAndTanhMatchTheLibraryAndReachTheirLimits) {
  double worst_sigmoid = 0.0, worst_tanh = 0.0;
  for (float x = -30.0f; x <= 30.0f; x += 0.00731f) {
    const double xd = x;
    worst_sigmoid =
        std::max(worst_sigmoid, std::fabs(sigmoid_fast(x) - 1.0 / (1.0 + std::exp(-xd))));
    worst_tanh = std::max(worst_tanh, std::fabs(tanh_fast(x) - std::tanh(xd)));
  }
  EXPECT_LT(worst_sigmoid, 1.5e-7);
  EXPECT_LT(worst_tanh, 3e-7);
  EXPECT_EQ(tanh_fast(100.0f), 1.0f);
  EXPECT_EQ(tanh_fast(-100.0f), -1.0f);
  EXPECT_EQ(sigmoid_fast(100.0f), 1.0f);
  EXPECT_LT(sigmoid_fast(-100.0f), 1e-37f);
}

}  // namespace
}  // namespace sculpt::kernels

// Pooling kernels against their reference twins, and hand-computed PyTorch semantics
// (first-max ties, -inf padding, count_include_pad divisor).
#include "kernels/pooling.h"

#include <gtest/gtest.h>

#include <cmath>

#include "core/parallel.h"
#include "unit/kernels/random_fill.h"

namespace sculpt::kernels {
namespace {

using sculpt::testing::expect_near_all;
using sculpt::testing::random_vector;

const PoolGeometry kPoolGeoms[] = {
    {.c = 2, .h = 6, .w = 6, .k = 2, .stride = 2, .pad = 0},
    {.c = 3, .h = 7, .w = 5, .k = 2, .stride = 2, .pad = 0},  // odd: last row/col dropped
    {.c = 2, .h = 7, .w = 7, .k = 3, .stride = 2, .pad = 1},
    {.c = 1, .h = 5, .w = 6, .k = 3, .stride = 1, .pad = 0},
    {.c = 2, .h = 4, .w = 4, .k = 4, .stride = 3, .pad = 2},
};

void check_geometry(const PoolGeometry& g, int64_t n, Rng& rng) {
  const size_t in = size_t(n * g.c * g.h * g.w), out = size_t(n * g.c * g.oh() * g.ow());
  const auto x = random_vector(in, rng), dy = random_vector(out, rng);
  std::vector<float> y(out), y_ref(out), dx(in, 7.0f), dx_ref(in);
  std::vector<int32_t> arg(out);
  maxpool2d_forward(x.data(), n, g, y.data(), arg.data());
  maxpool2d_forward_reference(x.data(), n, g, y_ref.data());
  expect_near_all(y, y_ref, 0, 0, "maxpool forward");
  maxpool2d_backward(dy.data(), arg.data(), n, g, dx.data());
  maxpool2d_backward_reference(x.data(), dy.data(), n, g, dx_ref.data());
  expect_near_all(dx, dx_ref, 1e-6, 1e-6, "maxpool backward");
  avgpool2d_forward(x.data(), n, g, y.data());
  avgpool2d_forward_reference(x.data(), n, g, y_ref.data());
  expect_near_all(y, y_ref, 1e-6, 1e-5, "avgpool forward");
  std::fill(dx.begin(), dx.end(), 7.0f);
  avgpool2d_backward(dy.data(), n, g, dx.data());
  avgpool2d_backward_reference(dy.data(), n, g, dx_ref.data());
  expect_near_all(dx, dx_ref, 1e-6, 1e-5, "avgpool backward");
}

TEST(Pooling, MatchesReference) {
  Rng rng(1);
  for (const auto& g : kPoolGeoms) check_geometry(g, 3, rng);
}

TEST(Pooling, MatchesReferenceAboveTheParallelThreshold) {
  Rng rng(2);
  const PoolGeometry g{.c = 6, .h = 28, .w = 28, .k = 2, .stride = 2, .pad = 0};
  check_geometry(g, 2 * kParallelThreshold / (6 * 28 * 28) + 1, rng);
}

TEST(Pooling, MaxTiesGoToTheFirstElement) {
  const PoolGeometry g{.c = 1, .h = 2, .w = 2, .k = 2, .stride = 2, .pad = 0};
  const std::vector<float> x = {1, 3, 3, 3}, dy = {5};
  float y;
  int32_t arg;
  maxpool2d_forward(x.data(), 1, g, &y, &arg);
  EXPECT_EQ(y, 3.0f);
  EXPECT_EQ(arg, 1);
  std::vector<float> dx(4);
  maxpool2d_backward(dy.data(), &arg, 1, g, dx.data());
  EXPECT_EQ(dx, (std::vector<float>{0, 5, 0, 0}));
}

TEST(Pooling, MaxPaddingIsMinusInfinityAndNaNPropagates) {
  const PoolGeometry g{.c = 1, .h = 2, .w = 2, .k = 2, .stride = 1, .pad = 1};
  const std::vector<float> x = {-5, -6, -7, -8};
  std::vector<float> y(9);
  std::vector<int32_t> arg(9);
  maxpool2d_forward(x.data(), 1, g, y.data(), arg.data());
  EXPECT_EQ(y[0], -5.0f);  // corner window holds only x[0,0] and padding
  EXPECT_EQ(y[8], -8.0f);
  const std::vector<float> xn = {1, std::nanf(""), 2, 3};
  maxpool2d_forward(xn.data(), 1, g, y.data(), arg.data());
  EXPECT_TRUE(std::isnan(y[4]));
}

TEST(Pooling, AverageDividesByTheFullWindowIncludingPadding) {
  const PoolGeometry g{.c = 1, .h = 2, .w = 2, .k = 2, .stride = 1, .pad = 1};
  const std::vector<float> x = {4, 8, 12, 16};
  std::vector<float> y(9);
  avgpool2d_forward(x.data(), 1, g, y.data());
  EXPECT_FLOAT_EQ(y[0], 1.0f);   // 4 / 4
  EXPECT_FLOAT_EQ(y[4], 10.0f);  // (4 + 8 + 12 + 16) / 4
}

}  // namespace
}  // namespace sculpt::kernels

// The activations at the ends of their range, where a formula can overflow, and LeakyReLU's
// argument. Values in between are checked against PyTorch by the golden test.
#include "nn/layers/activations.h"

#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "core/error.h"
#include "nn/registry.h"

namespace sculpt::nn {
namespace {

std::vector<float> forward(Layer& layer, const std::vector<float>& x) {
  layer.bind({static_cast<int64_t>(x.size())});
  ParamStore ps;
  ps.finalize();
  std::vector<float> y(x.size());
  layer.forward(ps, x.data(), y.data(), 1, Pass{});
  return y;
}

TEST(Activations, SaturateWithoutNaN) {
  const std::vector<float> x = {-1000.0f, -80.0f, 0.0f, 80.0f, 1000.0f};
  Sigmoid sigmoid("s");
  EXPECT_EQ(forward(sigmoid, x), (std::vector<float>{0.0f, std::exp(-80.0f), 0.5f, 1.0f, 1.0f}));
  SiLU silu("s");
  const std::vector<float> ys = forward(silu, x);
  EXPECT_EQ(ys[0], -0.0f);
  EXPECT_EQ(ys[4], 1000.0f);
  GELU gelu("g");
  const std::vector<float> yg = forward(gelu, x);
  EXPECT_EQ(yg[0], -0.0f);
  EXPECT_EQ(yg[2], 0.0f);
  EXPECT_EQ(yg[4], 1000.0f);
  for (float v : ys) EXPECT_TRUE(std::isfinite(v));
  for (float v : yg) EXPECT_TRUE(std::isfinite(v));
}

TEST(Activations, LeakyReluTakesItsSlopeFromTheRecipe) {
  auto layer = make_layer(LayerSpec{"leakyrelu", "act", {{"negative_slope", 0.25}}});
  EXPECT_EQ(forward(*layer, {-4.0f, 0.0f, 3.0f}), (std::vector<float>{-1.0f, 0.0f, 3.0f}));
  auto fallback = make_layer(LayerSpec{"leakyrelu", "act", {}});
  EXPECT_EQ(forward(*fallback, {-100.0f}), (std::vector<float>{-1.0f}));
  EXPECT_THROW(make_layer(LayerSpec{"leakyrelu", "act", {{"negative_slope", NAN}}}), ConfigError);
}

}  // namespace
}  // namespace sculpt::nn

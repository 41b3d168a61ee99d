// Linear: a hand-computed forward/backward, PyTorch's init bounds and moments, shape errors.
#include "nn/layers/linear.h"

#include <gtest/gtest.h>

#include <cmath>

#include "core/error.h"

namespace sculpt::nn {
namespace {

struct BoundLinear {
  Linear layer;
  ParamStore ps;
  explicit BoundLinear(int64_t in, int64_t out) : layer("fc1", out) {
    layer.bind({in});
    layer.declare(ps);
    ps.finalize();
    layer.reserve(4);
  }
};

TEST(Linear, ForwardAndBackwardMatchAHandComputedCase) {
  BoundLinear b(3, 2);
  // W = [[1, 2, 3], [-1, 0, 1]], b = [0.5, -0.5]
  const float w[] = {1, 2, 3, -1, 0, 1}, bias[] = {0.5f, -0.5f};
  std::copy(w, w + 6, b.ps.value(b.layer.weight_index()));
  std::copy(bias, bias + 2, b.ps.value(b.layer.bias_index()));
  const std::vector<float> x = {1, 1, 1, 2, 0, -1};
  std::vector<float> y(4);
  b.layer.forward(b.ps, x.data(), y.data(), 2, {});
  EXPECT_EQ(y, (std::vector<float>{6.5f, -0.5f, -0.5f, -3.5f}));

  const std::vector<float> dy = {1, 0, 0, 2};
  std::vector<float> dx(6);
  b.layer.backward(b.ps, x.data(), y.data(), dy.data(), dx.data(), 2);
  // dx = dy W; dW = dy^T x; db = column sums of dy.
  EXPECT_EQ(dx, (std::vector<float>{1, 2, 3, -2, 0, 2}));
  const float* dw = b.ps.grad(b.layer.weight_index());
  EXPECT_EQ(std::vector<float>(dw, dw + 6), (std::vector<float>{1, 1, 1, 4, 0, -2}));
  const float* db = b.ps.grad(b.layer.bias_index());
  EXPECT_EQ(std::vector<float>(db, db + 2), (std::vector<float>{1, 2}));
  // A second backward accumulates into the gradients.
  b.layer.backward(b.ps, x.data(), y.data(), dy.data(), nullptr, 2);
  EXPECT_EQ(db[1], 4.0f);
  EXPECT_EQ(dw[3], 8.0f);
}

TEST(Linear, InitMatchesPyTorchDefaultBoundsAndMoments) {
  BoundLinear b(784, 300);
  Rng rng(1);
  b.layer.init(b.ps, rng);
  const double bound = 1.0 / std::sqrt(784.0);
  for (size_t idx : {b.layer.weight_index(), b.layer.bias_index()}) {
    const auto v = b.ps.value_span(idx);
    double mean = 0, sq = 0;
    for (float x : v) {
      EXPECT_LE(std::fabs(x), bound);
      mean += x;
      sq += double{x} * x;
    }
    mean /= double(v.size());
    const double var = sq / double(v.size()) - mean * mean;
    const double se = std::sqrt(bound * bound / 3 / double(v.size()));
    EXPECT_NEAR(mean, 0.0, 5 * se) << b.ps.entry(idx).name;
    // U(-a, a) has variance a^2 / 3 (kaiming_uniform with a = sqrt(5) gives this bound).
    EXPECT_NEAR(var, bound * bound / 3, idx == b.layer.weight_index() ? 0.02 * var : 0.3 * var);
  }
}

TEST(Linear, ParametersAreNamedAndFlagged) {
  BoundLinear b(4, 3);
  EXPECT_EQ(b.ps.entry(b.layer.weight_index()).name, "fc1.weight");
  EXPECT_EQ(b.ps.entry(b.layer.weight_index()).shape, (Shape{3, 4}));
  EXPECT_TRUE(b.ps.entry(b.layer.weight_index()).flags.decays);
  const auto& bias = b.ps.entry(b.layer.bias_index());
  EXPECT_EQ(bias.name, "fc1.bias");
  EXPECT_FALSE(bias.flags.decays);
  EXPECT_FALSE(bias.flags.prunable);
}

TEST(Linear, ShapeErrorsNameTheLayer) {
  Linear fc2("fc2", 10, 300);
  try {
    fc2.bind({100});
    FAIL() << "no error";
  } catch (const ShapeError& e) {
    EXPECT_EQ(e.message(), "layer 'fc2' (linear) expects 300 input features but receives [100]");
    EXPECT_FALSE(e.hint().empty());
  }
  Linear fc1("fc1", 10);
  EXPECT_THROW(fc1.bind({1, 28, 28}), ShapeError);
}

}  // namespace
}  // namespace sculpt::nn

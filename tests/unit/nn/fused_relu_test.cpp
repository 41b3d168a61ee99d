// A ReLU (and a 2x2 max-pool after it) applied by the convolution or linear layer before it
// (Layer::fuse_relu, fuse_maxpool): on every Conv2d path the fused layer gives exactly the
// unfused one followed by a ReLU (and the pool), forward and backward; and a model fuses exactly
// the layers it should, with the same logits and gradients as the model whose ReLUs are
// LeakyReLU(0), which no layer fuses (Linear's kernels: tests/unit/kernels/elementwise_test.cpp).
#include <fmt/format.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdlib>
#include <string>
#include <vector>

#include "../kernels/random_fill.h"
#include "core/param_store.h"
#include "core/rng.h"
#include "kernels/conv_direct.h"
#include "kernels/pooling.h"
#include "nn/layers/conv2d.h"
#include "nn/model.h"

namespace sculpt::nn {
namespace {

using sculpt::testing::random_vector;

struct ReluGeometry {
  int64_t c, h, w, out, kernel, pad;
};

struct ReluConv {
  Conv2d layer;
  ParamStore ps;
  ReluConv(const ReluGeometry& g, bool reference, bool relu,
           const kernels::PoolGeometry* pool = nullptr)
      : layer("conv1", g.out, g.kernel, 1, g.pad) {
    layer.use_reference(reference);
    layer.bind({g.c, g.h, g.w});
    layer.declare(ps);
    ps.finalize();
    EXPECT_TRUE(layer.fuse_relu(relu));
    pooled = layer.fuse_maxpool(pool);
    layer.reserve(5);
    Rng init(5);
    layer.init(ps, init);
  }
  std::vector<float> grads() const { return {ps.grads().begin(), ps.grads().end()}; }
  bool pooled = false;
};

void expect_fused_is_conv_then_relu(const ReluGeometry& g, bool reference,
                                    const std::string& path) {
  const std::string what =
      fmt::format("c{} {}x{} -> {} k{} p{} ({})", g.c, g.h, g.w, g.out, g.kernel, g.pad, path);
  ReluConv fused(g, reference, true), plain(g, reference, false);
  ASSERT_EQ(fused.layer.path().rfind(path, 0), 0u) << what << ": " << fused.layer.path();
  const int64_t n = 5, in_sz = g.c * g.h * g.w;
  const int64_t out_sz = g.out * fused.layer.out_shape()[1] * fused.layer.out_shape()[2];
  Rng rng(9);
  const auto x = random_vector(size_t(n * in_sz), rng);
  const auto dy = random_vector(size_t(n * out_sz), rng);
  std::vector<float> y_fused(n * out_sz), y_plain(n * out_sz);
  fused.layer.forward(fused.ps, x.data(), y_fused.data(), n, {Mode::kTrain});
  plain.layer.forward(plain.ps, x.data(), y_plain.data(), n, {Mode::kTrain});
  std::vector<float> relu(y_plain.size()), dy_masked(dy.size());
  int passed = 0;
  for (size_t k = 0; k < relu.size(); ++k) {
    relu[k] = y_plain[k] > 0.0f ? y_plain[k] : 0.0f;
    dy_masked[k] = y_plain[k] > 0.0f ? dy[k] : 0.0f;
    passed += y_plain[k] > 0.0f;
  }
  ASSERT_GT(passed, 0) << what;
  ASSERT_LT(passed, static_cast<int>(relu.size())) << what << ": the mask must cut something";
  EXPECT_EQ(y_fused, relu) << what;
  std::vector<float> dx_fused(n * in_sz), dx_plain(n * in_sz);
  fused.layer.backward(fused.ps, x.data(), y_fused.data(), dy.data(), dx_fused.data(), n);
  plain.layer.backward(plain.ps, x.data(), y_plain.data(), dy_masked.data(), dx_plain.data(), n);
  EXPECT_EQ(dx_fused, dx_plain) << what;
  EXPECT_EQ(fused.grads(), plain.grads()) << what;
}

TEST(FusedRelu, EveryConvPathGivesTheConvolutionThenAReluExactly) {
  expect_fused_is_conv_then_relu({1, 12, 12, 6, 5, 2}, true, "im2col + gemm");
  expect_fused_is_conv_then_relu({3, 9, 11, 4, 3, 0}, true, "im2col + gemm");
  if (kernels::DirectConv::supported({.c = 1, .h = 12, .w = 12, .kh = 5, .kw = 5, .pad = 2}))
    expect_fused_is_conv_then_relu({1, 12, 12, 6, 5, 2}, false, "direct");
  // oneDNN: 32 filters (whole 16-blocks: dY masked as it is transposed into them) and 24 (masked
  // in NCHW, then oneDNN's reorder).
  const kernels::ConvGeometry one{.c = 16, .h = 8, .w = 8, .kh = 3, .kw = 3, .pad = 1};
  if (kernels::DnnlConv::preferred(one, 32) && !kernels::DirectConv::preferred(one)) {
    expect_fused_is_conv_then_relu({16, 8, 8, 32, 3, 1}, false, "oneDNN");
    expect_fused_is_conv_then_relu({16, 6, 5, 32, 3, 1}, false, "oneDNN");  // 30 positions
    expect_fused_is_conv_then_relu({16, 7, 7, 24, 3, 1}, false, "oneDNN");
  }
}

// Conv2d + ReLU + 2x2 max-pool in one layer against the three apart: the pooled output and
// every gradient bit for bit, on oneDNN's blocked pooling (whole 16-channel blocks, odd maps
// whose last row and column no window covers) and where the layer pools NCHW itself (oneDNN
// declined the geometry), whichever this CPU takes.
void expect_fused_pool_is_conv_relu_pool(const ReluGeometry& g) {
  const std::string what =
      fmt::format("c{} {}x{} -> {} k{} p{} + pool", g.c, g.h, g.w, g.out, g.kernel, g.pad);
  ReluConv plain(g, false, false);
  const int64_t oh = plain.layer.out_shape()[1], ow = plain.layer.out_shape()[2];
  const kernels::PoolGeometry pg{.c = g.out, .h = oh, .w = ow, .k = 2, .stride = 2, .pad = 0};
  ReluConv fused(g, false, true, &pg);
  if (!fused.pooled) GTEST_SKIP() << what << ": not fused on this CPU (" << fused.layer.path();
  const int64_t n = 5, in_sz = g.c * g.h * g.w, out_sz = g.out * oh * ow;
  const int64_t pooled_sz = g.out * pg.oh() * pg.ow();
  Rng rng(12);
  const auto x = random_vector(size_t(n * in_sz), rng);
  const auto dp = random_vector(size_t(n * pooled_sz), rng);
  // Apart: convolution, ReLU, pool; backward through the pool, the ReLU, the convolution.
  std::vector<float> y(n * out_sz), pooled(n * pooled_sz), dy(n * out_sz), dx_plain(n * in_sz);
  std::vector<int32_t> arg(pooled.size());
  plain.layer.forward(plain.ps, x.data(), y.data(), n, {Mode::kTrain});
  for (float& v : y) v = v > 0.0f ? v : 0.0f;
  kernels::maxpool2d_forward(y.data(), n, pg, pooled.data(), arg.data());
  kernels::maxpool2d_backward(dp.data(), arg.data(), n, pg, dy.data());
  for (size_t k = 0; k < dy.size(); ++k) dy[k] = y[k] > 0.0f ? dy[k] : 0.0f;
  plain.layer.backward(plain.ps, x.data(), y.data(), dy.data(), dx_plain.data(), n);
  std::vector<float> p_fused(pooled.size()), dx_fused(n * in_sz);
  fused.layer.forward(fused.ps, x.data(), p_fused.data(), n, {Mode::kTrain});
  EXPECT_EQ(p_fused, pooled) << what;
  fused.layer.backward(fused.ps, x.data(), p_fused.data(), dp.data(), dx_fused.data(), n);
  EXPECT_EQ(dx_fused, dx_plain) << what;
  EXPECT_EQ(fused.grads(), plain.grads()) << what;
}

TEST(FusedRelu, AConvolutionPoolsExactlyAsTheLayersApart) {
  expect_fused_pool_is_conv_relu_pool({16, 8, 8, 32, 3, 1});
  expect_fused_pool_is_conv_relu_pool({16, 7, 9, 16, 3, 1});  // 7x9: a row and a column left
  expect_fused_pool_is_conv_relu_pool({12, 8, 8, 16, 3, 1});
}

// A built-in model with every "relu" as given, or as LeakyReLU(0) (the same function, which no
// layer fuses).
ModelSpec model_with(const std::string& name, bool leaky) {
  ModelSpec spec = builtin_model(name, 10);
  for (LayerSpec& l : spec.layers)
    if (leaky && l.type == "relu") l = {"leakyrelu", l.name, {{"negative_slope", 0.0}}, {}};
  return spec;
}

// The model fuses the layers `expected` (ReLUs after convolutions, linear layers and BatchNorms,
// in chains and graphs; and the max-pool after the seed CNN's oneDNN convolution) and computes
// what the unfused one does, bit for bit.
void expect_fused_model_is_the_same(const std::string& name, const std::vector<size_t>& expected) {
  Model fused = Model::build(model_with(name, false), {1, 28, 28}),
        plain = Model::build(model_with(name, true), {1, 28, 28});
  ParamStore ps_fused, ps_plain;
  fused.declare(ps_fused);
  plain.declare(ps_plain);
  ps_fused.finalize();
  ps_plain.finalize();
  Rng init(3);
  fused.init(ps_fused, init);
  std::copy(ps_fused.values().begin(), ps_fused.values().end(), ps_plain.values().begin());
  const int64_t n = 6;
  fused.reserve(n);
  plain.reserve(n);
  const bool forced = std::getenv("SCULPT_CONV") != nullptr;  // may move the max-pool's fusion
  for (size_t i = 0; i < fused.size(); ++i) {
    const bool want = std::find(expected.begin(), expected.end(), i) != expected.end();
    if (!forced || fused.layer(i).kind() == "relu") EXPECT_EQ(fused.fused(i), want) << name << i;
    EXPECT_FALSE(plain.fused(i)) << name << " " << i;
  }
  Rng rng(4);
  const auto x = random_vector(size_t(n * 784), rng);
  const auto dlogits = random_vector(size_t(n * 10), rng);
  const float* lf = fused.forward(ps_fused, x.data(), n, {Mode::kTrain});
  const float* lp = plain.forward(ps_plain, x.data(), n, {Mode::kTrain});
  EXPECT_EQ(std::vector<float>(lf, lf + n * 10), std::vector<float>(lp, lp + n * 10)) << name;
  ps_fused.zero_grads();
  ps_plain.zero_grads();
  fused.backward(ps_fused, x.data(), dlogits.data(), n);
  plain.backward(ps_plain, x.data(), dlogits.data(), n);
  EXPECT_EQ(std::vector<float>(ps_fused.grads().begin(), ps_fused.grads().end()),
            std::vector<float>(ps_plain.grads().begin(), ps_plain.grads().end()))
      << name;
}

TEST(FusedRelu, AModelFusesTheLayersAfterConvolutionsAndLinearsAndComputesTheSame) {
  expect_fused_model_is_the_same("lenet5", {1, 4, 8, 10});
  expect_fused_model_is_the_same("seed-cnn", {1, 3, 4, 7});
  expect_fused_model_is_the_same("mlp", {2, 4});
  // A graph: every BatchNorm's ReLU (pre-activation blocks, and the head's), none after an add.
  expect_fused_model_is_the_same("resnet-small", {3, 6, 10, 13, 18, 21, 26});
}

}  // namespace
}  // namespace sculpt::nn

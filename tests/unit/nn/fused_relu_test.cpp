// A ReLU applied by the convolution before it (Layer::fuse_relu): on every Conv2d path the fused
// layer gives exactly the unfused one followed by a ReLU, forward and backward; and a model
// fuses exactly the ReLUs that read a convolution alone, with the same logits and gradients as
// the model whose ReLUs are LeakyReLU(0), which no layer fuses.
#include <fmt/format.h>
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "../kernels/random_fill.h"
#include "core/param_store.h"
#include "core/rng.h"
#include "kernels/conv_direct.h"
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
  ReluConv(const ReluGeometry& g, bool reference, bool relu)
      : layer("conv1", g.out, g.kernel, 1, g.pad) {
    layer.use_reference(reference);
    layer.bind({g.c, g.h, g.w});
    layer.declare(ps);
    ps.finalize();
    EXPECT_TRUE(layer.fuse_relu(relu));
    layer.reserve(5);
    Rng init(5);
    layer.init(ps, init);
  }
  std::vector<float> grads() const { return {ps.grads().begin(), ps.grads().end()}; }
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

// lenet5 with every "relu" as given, or as LeakyReLU(0) (the same function, never fused).
ModelSpec lenet(bool leaky) {
  ModelSpec spec = builtin_model("lenet5", 10);
  for (LayerSpec& l : spec.layers)
    if (leaky && l.type == "relu") l = {"leakyrelu", l.name, {{"negative_slope", 0.0}}, {}};
  return spec;
}

TEST(FusedRelu, AModelFusesTheRelusAfterConvolutionsAndComputesTheSame) {
  Model fused = Model::build(lenet(false), {1, 28, 28}),
        plain = Model::build(lenet(true), {1, 28, 28});
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
  for (size_t i = 0; i < fused.size(); ++i) {
    const bool after_conv = i > 0 && fused.layer(i - 1).kind() == "conv2d";
    EXPECT_EQ(fused.fused(i), fused.layer(i).kind() == "relu" && after_conv) << i;
    EXPECT_FALSE(plain.fused(i)) << i;
  }
  Rng rng(4);
  const auto x = random_vector(size_t(n * 784), rng);
  const auto dlogits = random_vector(size_t(n * 10), rng);
  const float* lf = fused.forward(ps_fused, x.data(), n, {Mode::kTrain});
  const float* lp = plain.forward(ps_plain, x.data(), n, {Mode::kTrain});
  EXPECT_EQ(std::vector<float>(lf, lf + n * 10), std::vector<float>(lp, lp + n * 10));
  ps_fused.zero_grads();
  ps_plain.zero_grads();
  fused.backward(ps_fused, x.data(), dlogits.data(), n);
  plain.backward(ps_plain, x.data(), dlogits.data(), n);
  EXPECT_EQ(std::vector<float>(ps_fused.grads().begin(), ps_fused.grads().end()),
            std::vector<float>(ps_plain.grads().begin(), ps_plain.grads().end()));
}

}  // namespace
}  // namespace sculpt::nn

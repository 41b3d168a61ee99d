// Conv2d's three paths: oneDNN's primitives (the geometries DnnlConv::preferred picks) and the
// direct kernels (DirectConv::preferred) against the im2col + gemm reference twin, forward, dX
// and the accumulated dW/db, at the reserved batch and at smaller ones (oneDNN's own
// primitives), and a backward whose input is not the last forward's.
#include "nn/layers/conv2d.h"

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <cstdlib>
#include <string>
#include <vector>

#include "../kernels/random_fill.h"
#include "core/error.h"
#include "kernels/conv_direct.h"
#include "kernels/conv_dnnl.h"

namespace sculpt::nn {
namespace {

using sculpt::testing::expect_near_all;
using sculpt::testing::random_vector;

struct Geometry {
  int64_t c, h, w, out, kernel, stride, pad;
};

struct BoundConv {
  Conv2d layer;
  ParamStore ps;
  BoundConv(const Geometry& g, bool reference, int64_t max_batch)
      : layer("conv1", g.out, g.kernel, g.stride, g.pad) {
    layer.use_reference(reference);
    layer.bind({g.c, g.h, g.w});
    layer.declare(ps);
    ps.finalize();
    layer.reserve(max_batch);
  }
  std::vector<float> grad(size_t idx) const {
    return {ps.grad(idx), ps.grad(idx) + ps.entry(idx).size};
  }
};

constexpr double kTol = 1e-5;

// Runs each geometry through the layer's own path (whose name must start with `path`) and the
// im2col twin: forward, dX and the accumulated dW/db within kTol, at the reserved batch and at
// smaller ones, with a forward of another input between a forward and its backward.
void expect_paths_agree(const std::vector<Geometry>& geometries, const std::string& path) {
  Rng rng(7);
  for (const Geometry& g : geometries) {
    const std::string what =
        fmt::format("c{} {}x{} -> {} k{} s{} p{}", g.c, g.h, g.w, g.out, g.kernel, g.stride, g.pad);
    constexpr int64_t kMax = 6;
    BoundConv fast(g, false, kMax), ref(g, true, kMax);
    ASSERT_EQ(fast.layer.path().rfind(path, 0), 0u) << what << ": " << fast.layer.path();
    ASSERT_EQ(ref.layer.path(), "im2col + gemm") << what;
    Rng init(11);
    fast.layer.init(fast.ps, init);
    std::copy(fast.ps.values().begin(), fast.ps.values().end(), ref.ps.values().begin());
    // Gradients already hold something: backward must add to them.
    const auto g0 = random_vector(fast.ps.grads().size(), rng);
    std::copy(g0.begin(), g0.end(), fast.ps.grads().begin());
    std::copy(g0.begin(), g0.end(), ref.ps.grads().begin());

    const int64_t in_sz = g.c * g.h * g.w;
    const int64_t out_sz = g.out * fast.layer.out_shape()[1] * fast.layer.out_shape()[2];
    const auto x_other = random_vector(static_cast<size_t>(kMax * in_sz), rng);
    for (int64_t n : {kMax, int64_t{1}, int64_t{3}, kMax}) {
      const auto x = random_vector(static_cast<size_t>(n * in_sz), rng);
      const auto dy = random_vector(static_cast<size_t>(n * out_sz), rng);
      std::vector<float> y_fast(n * out_sz), y_ref(n * out_sz);
      fast.layer.forward(fast.ps, x.data(), y_fast.data(), n, {Mode::kTrain});
      ref.layer.forward(ref.ps, x.data(), y_ref.data(), n, {Mode::kTrain});
      expect_near_all(y_fast, y_ref, kTol, kTol, what + " y, n=" + std::to_string(n));
      if (n == 3) {  // a forward of another input in between: backward must not reuse it
        std::vector<float> y_other(kMax * out_sz);
        fast.layer.forward(fast.ps, x_other.data(), y_other.data(), kMax, {Mode::kEval});
      }
      std::vector<float> dx_fast(n * in_sz, 9.0f), dx_ref(n * in_sz, -9.0f);
      fast.layer.backward(fast.ps, x.data(), y_fast.data(), dy.data(), dx_fast.data(), n);
      ref.layer.backward(ref.ps, x.data(), y_ref.data(), dy.data(), dx_ref.data(), n);
      expect_near_all(dx_fast, dx_ref, kTol, kTol, what + " dx, n=" + std::to_string(n));
      for (size_t idx : {fast.layer.weight_index(), fast.layer.bias_index()})
        expect_near_all(fast.grad(idx), ref.grad(idx), 1e-4, kTol,
                        what + " " + fast.ps.entry(idx).name + ", n=" + std::to_string(n));
    }
  }
}

bool forced(const char* path) {
  const char* v = std::getenv("SCULPT_CONV");
  return v && std::string(v) == path;
}

TEST(Conv2d, OneDnnPathMatchesTheIm2colTwin) {
  if (forced("im2col") || forced("direct"))
    GTEST_SKIP() << "SCULPT_CONV=" << std::getenv("SCULPT_CONV") << ": oneDNN is not taken";
  expect_paths_agree(
      {
          {16, 14, 14, 16, 3, 1, 1},  // a "same" block convolution
          {16, 7, 7, 32, 3, 2, 1},    // stride 2 down to 4x4
          {17, 6, 5, 5, 3, 1, 0},     // channels that are no whole block, a non-square map
          {32, 4, 4, 8, 3, 1, 1},     // the smallest map of resnet-small
      },
      "oneDNN ");
}

// Every register block of the direct kernels: rows of 1 to 4 vectors (full and masked), output
// channels that fill whole blocks and leave remainders, kernels 1 to 7 wide, with and without
// padding; LeNet-5's two convolutions and the seed CNN's first.
TEST(Conv2d, DirectPathMatchesTheIm2colTwin) {
  if (!kernels::DirectConv::supported({.c = 1, .h = 8, .w = 8, .kh = 3, .kw = 3}))
    GTEST_SKIP() << "below the avx512 level (this CPU, or SCULPT_ISA): no direct kernels";
  if (forced("im2col") || forced("onednn"))
    GTEST_SKIP() << "SCULPT_CONV=" << std::getenv("SCULPT_CONV") << ": direct is not taken";
  expect_paths_agree(
      {
          {1, 28, 28, 6, 5, 1, 2},   // LeNet-5 conv1: rows of 2 vectors, one block of 6
          {6, 14, 14, 16, 5, 1, 0},  // LeNet-5 conv2: 10-column rows (masked), a block of 16
          {1, 28, 28, 32, 3, 1, 0},  // the seed CNN's conv1: 12 + 12 + 8 channels
          {3, 9, 40, 21, 3, 1, 1},   // 3 vectors a row: 8 + 8 + 5 channels
          {2, 5, 64, 7, 7, 1, 3},    // 4 whole vectors, a 7-wide kernel
          {5, 6, 16, 13, 1, 1, 0},   // 1x1, one whole vector
          {4, 7, 33, 9, 4, 1, 2},    // an even kernel: 34 columns out, 3 vectors
          {7, 11, 9, 17, 6, 1, 5},   // a 6-wide kernel padded by 5: the widest padding
          {2, 3, 3, 3, 2, 1, 0},     // 2x2 out of 3x3
      },
      "direct");
}

// Few input channels: the direct kernels where the CPU has AVX-512F, else im2col; a strided
// 1x1 kernel: im2col (one gemm a chunk).
TEST(Conv2d, FewChannelsTakeTheDirectKernels) {
  if (std::getenv("SCULPT_CONV") && !forced("auto"))
    GTEST_SKIP() << "SCULPT_CONV=" << std::getenv("SCULPT_CONV") << " overrides the choice";
  for (const Geometry& g : {Geometry{1, 28, 28, 32, 3, 1, 1}, Geometry{6, 12, 12, 16, 5, 1, 0}}) {
    BoundConv conv(g, false, 4);
    const bool avx512 = kernels::DirectConv::supported(
        {.c = g.c, .h = g.h, .w = g.w, .kh = g.kernel, .kw = g.kernel, .pad = g.pad});
    EXPECT_EQ(conv.layer.path(), avx512 ? "direct" : "im2col + gemm") << "c" << g.c;
  }
  BoundConv strided({32, 14, 14, 64, 1, 2, 0}, false, 4);
  EXPECT_EQ(strided.layer.path(), "im2col + gemm");
}

// Where oneDNN has only its slow reference kernel (which geometries depends on the CPU: with
// AVX-512, fewer than 16 input channels; with AVX2, a 5x5 kernel over a padded 4x4 map), the
// layer stays on im2col; wherever oneDNN has a real kernel, the layer takes it.
TEST(Conv2d, OneDnnIsTakenExactlyWhereItHasARealKernel) {
  if (forced("im2col") || forced("direct"))
    GTEST_SKIP() << "SCULPT_CONV=" << std::getenv("SCULPT_CONV") << ": oneDNN is not taken";
  for (const Geometry& g : {Geometry{8, 14, 14, 16, 3, 1, 1}, Geometry{12, 6, 5, 5, 3, 1, 0},
                            Geometry{32, 4, 4, 8, 5, 1, 2}, Geometry{64, 8, 8, 64, 3, 1, 1}}) {
    const kernels::ConvGeometry kg{g.c, g.h, g.w, g.kernel, g.kernel, g.stride, g.pad};
    ASSERT_TRUE(kernels::DnnlConv::preferred(kg, g.out));
    std::string direct;
    try {
      direct = "oneDNN " + kernels::DnnlConv(kg, g.out, 4).implementation();
      EXPECT_EQ(direct.find("ref"), std::string::npos) << direct;
    } catch (const Error& e) {
      direct = "im2col + gemm";
      EXPECT_NE(std::string(e.what()).find("reference convolution"), std::string::npos) << e.what();
    }
    BoundConv conv(g, false, 4);
    EXPECT_EQ(conv.layer.path(), direct) << "c" << g.c << " k" << g.kernel;
  }
}

}  // namespace
}  // namespace sculpt::nn

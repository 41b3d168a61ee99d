// train.precision = "bf16": a Linear's three products take x, W and dY rounded to bfloat16 and
// accumulate in fp32 (against the reference on the same rounded values), its bias gradient stays
// the fp32 sum, it stays within bf16's rounding of the fp32 layer, and a model names the layers
// with weights that keep fp32.
#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "core/rng.h"
#include "kernels/gemm.h"
#include "kernels/gemm_bf16.h"
#include "nn/layers/linear.h"
#include "nn/model.h"

namespace sculpt::nn {
namespace {

std::vector<float> bf16_rounded(const float* x, size_t n) {
  std::vector<float> out(n);
  for (size_t i = 0; i < n; ++i) out[i] = kernels::from_bf16(kernels::to_bf16(x[i]));
  return out;
}

struct Bf16Linear {
  Linear layer{"fc", 37, 53};
  ParamStore ps;
  explicit Bf16Linear(Precision p) {
    layer.bind({53});
    layer.declare(ps);
    ps.finalize();
    Rng rng(7);
    layer.init(ps, rng);
    EXPECT_TRUE(layer.set_precision(p));
    layer.reserve(9);
  }
};

void expect_within_bf16(const std::vector<float>& got, const std::vector<float>& want, double rel,
                        const char* what) {
  ASSERT_EQ(got.size(), want.size());
  for (size_t i = 0; i < got.size(); ++i)
    ASSERT_NEAR(got[i], want[i], rel * (1.0 + std::fabs(want[i]))) << what << " at " << i;
}

TEST(Bf16, LinearProductsTakeRoundedOperandsAndAccumulateInFp32) {
  Bf16Linear bf(Precision::kBf16), fp(Precision::kFp32);
  const int64_t n = 9, in = 53, out = 37;
  Rng rng(8);
  std::vector<float> x(size_t(n * in)), dy(size_t(n * out));
  for (float& v : x) v = static_cast<float>(rng.normal());
  for (float& v : dy) v = static_cast<float>(rng.normal());
  std::vector<float> y(size_t(n * out)), dx(size_t(n * in)), y32(y.size()), dx32(dx.size());
  bf.layer.forward(bf.ps, x.data(), y.data(), n, {Mode::kTrain});
  bf.layer.backward(bf.ps, x.data(), y.data(), dy.data(), dx.data(), n);
  fp.layer.forward(fp.ps, x.data(), y32.data(), n, {Mode::kTrain});
  fp.layer.backward(fp.ps, x.data(), y32.data(), dy.data(), dx32.data(), n);

  // The reference on the rounded operands: y = xb Wb^T + b, dW = dyb^T xb, dx = dyb Wb.
  const float* w = bf.ps.value(bf.layer.weight_index());
  const auto xb = bf16_rounded(x.data(), x.size()), wb = bf16_rounded(w, size_t(out * in)),
             dyb = bf16_rounded(dy.data(), dy.size());
  std::vector<float> y_ref(y.size()), dw_ref(size_t(out * in)), dx_ref(dx.size());
  kernels::gemm_reference(false, true, n, out, in, 1.0f, xb.data(), in, wb.data(), in, 0.0f,
                          y_ref.data(), out);
  for (int64_t i = 0; i < n; ++i)
    for (int64_t j = 0; j < out; ++j)
      y_ref[size_t(i * out + j)] += bf.ps.value(bf.layer.bias_index())[j];
  kernels::gemm_reference(true, false, out, in, n, 1.0f, dyb.data(), out, xb.data(), in, 0.0f,
                          dw_ref.data(), in);
  kernels::gemm_reference(false, false, n, in, out, 1.0f, dyb.data(), out, wb.data(), in, 0.0f,
                          dx_ref.data(), in);
  const float* dw = bf.ps.grad(bf.layer.weight_index());
  expect_within_bf16(y, y_ref, 1e-5, "y");
  expect_within_bf16(std::vector<float>(dw, dw + out * in), dw_ref, 1e-5, "dW");
  expect_within_bf16(dx, dx_ref, 1e-5, "dx");
  // The bias gradient is the fp32 sum of dY, as in the fp32 layer.
  for (int64_t j = 0; j < out; ++j)
    EXPECT_EQ(bf.ps.grad(bf.layer.bias_index())[j], fp.ps.grad(fp.layer.bias_index())[j]) << j;
  // And the whole is bf16's rounding away from fp32 (8 bits of mantissa: about 2^-8 relative
  // per operand), not more; nor equal to it (the products really were rounded).
  expect_within_bf16(y, y32, 0.05, "y vs fp32");
  expect_within_bf16(dx, dx32, 0.05, "dx vs fp32");
  EXPECT_NE(y, y32);
}

TEST(Bf16, AModelNamesTheLayersWithWeightsThatKeepFp32) {
  Model lenet = Model::build(builtin_model("lenet5", 10), {1, 28, 28});
  EXPECT_EQ(lenet.set_precision(Precision::kBf16), (std::vector<std::string>{"conv1", "conv2"}));
  EXPECT_TRUE(lenet.set_precision(Precision::kFp32).empty());
  Model mlp = Model::build(builtin_model("mlp", 10), {1, 28, 28});
  EXPECT_TRUE(mlp.set_precision(Precision::kBf16).empty());
}

}  // namespace
}  // namespace sculpt::nn

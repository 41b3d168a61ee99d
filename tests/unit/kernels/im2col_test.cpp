// im2col + gemm convolution against the direct reference convolution, and col2im as the exact
// adjoint of im2col, over strides, paddings and odd sizes.
#include "kernels/im2col.h"

#include <gtest/gtest.h>

#include "kernels/gemm.h"
#include "unit/kernels/random_fill.h"

namespace sculpt::kernels {
namespace {

using sculpt::testing::expect_near_all;
using sculpt::testing::random_vector;

const ConvGeometry kGeoms[] = {
    {.c = 1, .h = 5, .w = 5, .kh = 3, .kw = 3, .stride = 1, .pad = 0},
    {.c = 2, .h = 7, .w = 6, .kh = 3, .kw = 3, .stride = 2, .pad = 1},
    {.c = 3, .h = 9, .w = 11, .kh = 5, .kw = 5, .stride = 1, .pad = 2},
    {.c = 2, .h = 8, .w = 8, .kh = 3, .kw = 2, .stride = 3, .pad = 2},
    {.c = 4, .h = 4, .w = 4, .kh = 1, .kw = 1, .stride = 1, .pad = 0},
    {.c = 1, .h = 3, .w = 3, .kh = 3, .kw = 3, .stride = 1, .pad = 3},
    // "same" convolutions (stride 1, output as large as the input): the shifted-plane path
    {.c = 2, .h = 4, .w = 4, .kh = 3, .kw = 3, .stride = 1, .pad = 1},
    {.c = 1, .h = 7, .w = 3, .kh = 3, .kw = 3, .stride = 1, .pad = 1},
    {.c = 2, .h = 2, .w = 2, .kh = 7, .kw = 7, .stride = 1, .pad = 3},  // kernel wider than the map
};

TEST(Im2col, GemmConvolutionMatchesDirectConvolution) {
  Rng rng(1);
  for (const auto& g : kGeoms) {
    const int64_t oc = 3, n = 2;
    const auto x = random_vector(size_t(n * g.c * g.h * g.w), rng);
    const auto w = random_vector(size_t(oc * g.col_rows()), rng);
    const auto b = random_vector(size_t(oc), rng);
    std::vector<float> y(size_t(n * oc * g.col_cols())), y_ref(y.size());
    std::vector<float> col(size_t(g.col_rows() * g.col_cols()));
    for (int64_t i = 0; i < n; ++i) {
      im2col(x.data() + i * g.c * g.h * g.w, g, col.data());
      float* yi = y.data() + i * oc * g.col_cols();
      for (int64_t o = 0; o < oc; ++o)
        for (int64_t p = 0; p < g.col_cols(); ++p) yi[o * g.col_cols() + p] = b[size_t(o)];
      gemm(false, false, oc, g.col_cols(), g.col_rows(), 1.0f, w.data(), g.col_rows(), col.data(),
           g.col_cols(), 1.0f, yi, g.col_cols());
    }
    conv2d_forward_reference(x.data(), w.data(), b.data(), n, g, oc, y_ref.data());
    expect_near_all(y, y_ref, 1e-5, 1e-5, "conv via im2col");
  }
}

TEST(Im2col, Col2imIsTheAdjointOfIm2col) {
  // <im2col(x), c> == <x, col2im(c)> for every x and c.
  Rng rng(2);
  for (const auto& g : kGeoms) {
    const auto x = random_vector(size_t(g.c * g.h * g.w), rng);
    const auto c = random_vector(size_t(g.col_rows() * g.col_cols()), rng);
    std::vector<float> col(c.size()), img(x.size(), 123.0f);  // col2im must overwrite img
    im2col(x.data(), g, col.data());
    std::vector<float> scratch = c;  // col2im may zero the entries of the padding
    col2im(scratch.data(), g, img.data());
    double lhs = 0, rhs = 0;
    for (size_t i = 0; i < c.size(); ++i) lhs += double{col[i]} * c[i];
    for (size_t i = 0; i < x.size(); ++i) rhs += double{x[i]} * img[i];
    EXPECT_NEAR(lhs, rhs, 1e-4 * (1 + std::fabs(lhs)));
  }
}

// Two images' columns side by side (ld = 2 oh*ow) are each image's own columns, and col2im reads
// them back from there.
TEST(Im2col, ImagesSideBySideWithARowStride) {
  Rng rng(3);
  for (const auto& g : kGeoms) {
    const int64_t in = g.c * g.h * g.w, hw = g.col_cols(), rows = g.col_rows();
    const auto x = random_vector(size_t(2 * in), rng);
    std::vector<float> wide(size_t(rows * 2 * hw), -1.0f), one(size_t(rows * hw));
    for (int64_t i = 0; i < 2; ++i) im2col(x.data() + i * in, g, wide.data() + i * hw, 2 * hw);
    for (int64_t i = 0; i < 2; ++i) {
      im2col(x.data() + i * in, g, one.data());
      for (int64_t r = 0; r < rows; ++r)
        for (int64_t p = 0; p < hw; ++p)
          ASSERT_EQ(wide[size_t(r * 2 * hw + i * hw + p)], one[size_t(r * hw + p)]);
      std::vector<float> a(static_cast<size_t>(in)), b(static_cast<size_t>(in));
      col2im(wide.data() + i * hw, g, a.data(), 2 * hw);
      col2im(one.data(), g, b.data());
      EXPECT_EQ(a, b);
    }
  }
}

TEST(Im2col, ColumnsOfPaddingAreZero) {
  const ConvGeometry g{.c = 1, .h = 2, .w = 2, .kh = 3, .kw = 3, .stride = 1, .pad = 1};
  const std::vector<float> x = {1, 2, 3, 4};
  std::vector<float> col(size_t(g.col_rows() * g.col_cols()), -1.0f);
  im2col(x.data(), g, col.data());
  // Row (ki=0, kj=0) reads x[oy-1, ox-1]: only output (1,1) sees x[0,0] = 1.
  EXPECT_EQ((std::vector<float>(col.begin(), col.begin() + 4)), (std::vector<float>{0, 0, 0, 1}));
  // Centre row (ki=1, kj=1) is the image itself.
  EXPECT_EQ((std::vector<float>(col.begin() + 16, col.begin() + 20)), x);
}

TEST(Im2col, ReferenceBackwardMatchesFiniteDifferences) {
  // The reference gradients are themselves checked, so they can be trusted as references.
  const ConvGeometry g{.c = 2, .h = 5, .w = 4, .kh = 3, .kw = 3, .stride = 2, .pad = 1};
  const int64_t oc = 2, n = 1;
  Rng rng(4);
  auto x = random_vector(size_t(g.c * g.h * g.w), rng);
  auto w = random_vector(size_t(oc * g.col_rows()), rng);
  const auto r = random_vector(size_t(oc * g.col_cols()), rng);
  auto loss = [&] {
    std::vector<float> y(r.size());
    conv2d_forward_reference(x.data(), w.data(), nullptr, n, g, oc, y.data());
    double s = 0;
    for (size_t i = 0; i < y.size(); ++i) s += double{y[i]} * r[i];
    return s;
  };
  std::vector<float> dx(x.size()), dw(w.size(), 0.0f);
  conv2d_backward_reference(x.data(), w.data(), r.data(), n, g, oc, dx.data(), dw.data(), nullptr);
  for (auto [v, d] : {std::pair{&x, &dx}, std::pair{&w, &dw}}) {
    for (size_t i = 0; i < v->size(); ++i) {
      const float s = (*v)[i];
      (*v)[i] = s + 0.01f;
      const double up = loss();
      (*v)[i] = s - 0.01f;
      const double down = loss();
      (*v)[i] = s;
      EXPECT_NEAR((*d)[i], (up - down) / 0.02, 1e-3);
    }
  }
}

}  // namespace
}  // namespace sculpt::kernels

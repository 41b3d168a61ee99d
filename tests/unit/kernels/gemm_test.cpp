// gemm (oneDNN) against the double-precision triple loop, over transposes, betas, odd sizes
// and padded leading dimensions.
#include "kernels/gemm.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <string>

#include "core/error.h"
#include "core/rng.h"
#include "unit/kernels/random_fill.h"

namespace sculpt::kernels {
namespace {

using sculpt::testing::expect_near_all;
using sculpt::testing::random_vector;

struct Case {
  int64_t M, N, K;
};

void check(bool ta, bool tb, Case c, float alpha, float beta, int64_t pad, uint64_t seed) {
  Rng rng(seed);
  const int64_t lda = (ta ? c.M : c.K) + pad, ldb = (tb ? c.K : c.N) + pad, ldc = c.N + pad;
  const auto A = random_vector(size_t((ta ? c.K : c.M) * lda), rng);
  const auto B = random_vector(size_t((tb ? c.N : c.K) * ldb), rng);
  auto C = random_vector(size_t(c.M * ldc), rng);
  auto C_ref = C;
  gemm(ta, tb, c.M, c.N, c.K, alpha, A.data(), lda, B.data(), ldb, beta, C.data(), ldc);
  gemm_reference(ta, tb, c.M, c.N, c.K, alpha, A.data(), lda, B.data(), ldb, beta, C_ref.data(),
                 ldc);
  expect_near_all(C, C_ref, 1e-4 * std::sqrt(double(c.K)), 1e-4,
                  ::testing::PrintToString(std::vector<int64_t>{ta, tb, c.M, c.N, c.K, pad}));
}

TEST(Gemm, MatchesReferenceOverTransposesAndBetas) {
  const Case cases[] = {{1, 1, 1},  {3, 5, 7},    {17, 1, 33},
                        {1, 29, 4}, {64, 48, 31}, {128, 10, 100}};
  uint64_t seed = 1;
  for (bool ta : {false, true})
    for (bool tb : {false, true})
      for (const Case& c : cases)
        for (float beta : {0.0f, 1.0f, 0.5f}) check(ta, tb, c, 1.0f, beta, 0, seed++);
}

TEST(Gemm, HonoursAlphaAndLeadingDimensions) {
  uint64_t seed = 100;
  for (bool ta : {false, true})
    for (bool tb : {false, true}) check(ta, tb, {13, 11, 9}, -0.75f, 1.0f, 3, seed++);
}

TEST(Gemm, BetaZeroIgnoresNaNInC) {
  // beta = 0 must overwrite C, not multiply it (0 * NaN would leak the NaN).
  const std::vector<float> A = {1, 2, 3, 4}, B = {1, 0, 0, 1};
  std::vector<float> C(4, std::nanf(""));
  gemm(false, false, 2, 2, 2, 1.0f, A.data(), 2, B.data(), 2, 0.0f, C.data(), 2);
  EXPECT_EQ(C, A);
}

TEST(Gemm, LargeSquareMatchesReference) { check(false, true, {128, 300, 784}, 1.0f, 1.0f, 0, 7); }

TEST(Gemm, BadLeadingDimensionThrows) {
  std::vector<float> A(4), B(4), C(4);
  EXPECT_THROW(gemm(false, false, 2, 2, 2, 1.0f, A.data(), 1, B.data(), 2, 0.0f, C.data(), 2),
               Error);
}

// Every variant this CPU runs, scalar included; the best one is what gemv picks.
TEST(Gemv, EveryVariantMatchesReferenceOnEveryShape) {
  const auto& variants = gemv_variants();
  ASSERT_FALSE(variants.empty());
  EXPECT_STREQ(variants.back().name, "scalar");
  if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma"))
    EXPECT_TRUE(std::any_of(variants.begin(), variants.end(),
                            [](const GemvVariant& v) { return std::string(v.name) == "avx2"; }));
  for (int64_t rows : {1, 3, 4, 7, 300}) {
    for (int64_t cols : {1, 7, 8, 15, 16, 17, 31, 32, 33, 784}) {
      Rng rng(uint64_t(rows * 1000 + cols));
      std::vector<float> w(static_cast<size_t>(rows * cols)), x(static_cast<size_t>(cols)),
          b(static_cast<size_t>(rows));
      for (float& v : w) v = float(rng.normal());
      for (float& v : x) v = float(rng.normal());
      for (float& v : b) v = float(rng.normal());
      for (const float* bias : std::vector<const float*>{b.data(), nullptr}) {
        std::vector<float> got(static_cast<size_t>(rows)), want(static_cast<size_t>(rows));
        gemv_reference(w.data(), rows, cols, x.data(), bias, want.data());
        for (const GemvVariant& v : gemv_variants()) {
          v.fn(w.data(), rows, cols, x.data(), bias, got.data());
          for (int64_t r = 0; r < rows; ++r)
            ASSERT_NEAR(got[size_t(r)], want[size_t(r)], 1e-4f * std::sqrt(float(cols)))
                << v.name << " " << rows << "x" << cols << " row " << r;
        }
        gemv(w.data(), rows, cols, x.data(), bias, got.data());
        for (int64_t r = 0; r < rows; ++r)
          ASSERT_NEAR(got[size_t(r)], want[size_t(r)], 1e-4f * std::sqrt(float(cols)));
      }
    }
  }
}

}  // namespace
}  // namespace sculpt::kernels

// bf16 conversion (round to nearest even, NaN and infinity kept) against the definition, and
// gemm_bf16 against its reference twin (the same bf16 values, double sums) over every
// transpose, accumulation, odd shapes and padded strides.
#include "kernels/gemm_bf16.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <limits>
#include <vector>

#include "core/rng.h"

namespace sculpt::kernels {
namespace {

float from_bits(uint32_t b) {
  float f;
  std::memcpy(&f, &b, sizeof f);
  return f;
}

TEST(Bf16, RoundsToNearestEvenAndKeepsSpecials) {
  EXPECT_EQ(to_bf16(1.0f), 0x3f80);
  EXPECT_EQ(to_bf16(-2.0f), 0xc000);
  // Halfway between 0x3f80 and 0x3f81: ties to the even 0x3f80; above halfway rounds up.
  EXPECT_EQ(to_bf16(from_bits(0x3f808000u)), 0x3f80);
  EXPECT_EQ(to_bf16(from_bits(0x3f818000u)), 0x3f82);  // tie, odd below: up to even
  EXPECT_EQ(to_bf16(from_bits(0x3f808001u)), 0x3f81);
  EXPECT_EQ(to_bf16(from_bits(0x3f807fffu)), 0x3f80);
  EXPECT_EQ(to_bf16(std::numeric_limits<float>::infinity()), 0x7f80);
  EXPECT_EQ(to_bf16(-std::numeric_limits<float>::infinity()), 0xff80);
  EXPECT_EQ(to_bf16(std::numeric_limits<float>::max()), 0x7f80);  // rounds past the largest
  EXPECT_TRUE(std::isnan(from_bf16(to_bf16(std::nanf("")))));
  EXPECT_TRUE(std::isnan(from_bf16(to_bf16(from_bits(0x7f800001u)))));  // a NaN, not infinity
  EXPECT_EQ(to_bf16(from_bits(0x00010000u)), 0x0001);                   // a denormal survives
  // The array form gives the scalar's bits on every thread.
  Rng rng(3);
  std::vector<float> x(100003);
  for (float& v : x) v = static_cast<float>(rng.normal() * 100.0);
  std::vector<bf16> y(x.size());
  to_bf16(x.data(), static_cast<int64_t>(x.size()), y.data());
  for (size_t i = 0; i < x.size(); ++i) ASSERT_EQ(y[i], to_bf16(x[i])) << i;
  // And widening is exact: a bf16 value converts back to itself.
  for (size_t i = 0; i < x.size(); i += 97) ASSERT_EQ(to_bf16(from_bf16(y[i])), y[i]) << i;
}

struct Bf16Case {
  bool ta, tb;
  int64_t M, N, K, pad;  // pad: extra floats on every stored row
};

TEST(GemmBf16, MatchesTheReferenceOnEveryTransposeAndAccumulation) {
  Rng rng(5);
  for (const Bf16Case& c : {Bf16Case{false, true, 128, 300, 784, 0},
                            {true, false, 300, 784, 128, 0},
                            {false, false, 128, 784, 300, 0},
                            {true, true, 17, 33, 65, 3},
                            {false, false, 1, 10, 100, 5},
                            {false, true, 7, 1, 3, 1}}) {
    const int64_t a_rows = c.ta ? c.K : c.M, a_cols = c.ta ? c.M : c.K;
    const int64_t b_rows = c.tb ? c.N : c.K, b_cols = c.tb ? c.K : c.N;
    const int64_t lda = a_cols + c.pad, ldb = b_cols + c.pad, ldc = c.N + c.pad;
    std::vector<bf16> A(size_t(a_rows * lda)), B(size_t(b_rows * ldb));
    for (bf16& v : A) v = to_bf16(static_cast<float>(rng.normal()));
    for (bf16& v : B) v = to_bf16(static_cast<float>(rng.normal()));
    for (bool accumulate : {false, true}) {
      std::vector<float> C(size_t(c.M * ldc)), want;
      for (float& v : C) v = static_cast<float>(rng.normal());
      want = C;
      gemm_bf16(c.ta, c.tb, c.M, c.N, c.K, A.data(), lda, B.data(), ldb, accumulate, C.data(), ldc);
      gemm_bf16_reference(c.ta, c.tb, c.M, c.N, c.K, A.data(), lda, B.data(), ldb, accumulate,
                          want.data(), ldc);
      const double tol = 1e-5 * std::sqrt(double(c.K)) * 4.0;
      for (int64_t i = 0; i < c.M; ++i)
        for (int64_t j = 0; j < c.N; ++j) {
          const size_t k = size_t(i * ldc + j);
          ASSERT_NEAR(C[k], want[k], tol * (1.0 + std::fabs(want[k])))
              << c.M << "x" << c.N << "x" << c.K << " ta " << c.ta << " tb " << c.tb << " acc "
              << accumulate << " at " << i << "," << j;
        }
    }
    EXPECT_FALSE(gemm_bf16_implementation(c.ta, c.tb, c.M, c.N, c.K, lda, ldb, ldc).empty());
  }
}

}  // namespace
}  // namespace sculpt::kernels

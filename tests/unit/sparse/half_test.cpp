// binary16 conversion: known bit patterns (max, overflow, subnormals, signed zero, inf, NaN,
// ties to even), every half through float and back, and random floats against an independent
// reference that picks the nearest half by searching the (monotone) table of halves.
#include "sparse/half.h"

#include <gtest/gtest.h>

#include <bit>
#include <cmath>
#include <cstdint>

#include "core/rng.h"

namespace sculpt::sparse {
namespace {

bool half_is_nan(uint16_t h) { return (h & 0x7C00) == 0x7C00 && (h & 0x3FF) != 0; }

TEST(SparseHalf, KnownFloatToHalf) {
  EXPECT_EQ(float_to_half(1.0f), 0x3C00);
  EXPECT_EQ(float_to_half(-2.0f), 0xC000);
  EXPECT_EQ(float_to_half(65504.0f), 0x7BFF);
  EXPECT_EQ(float_to_half(std::nextafter(65520.0f, 0.0f)), 0x7BFF);
  EXPECT_EQ(float_to_half(65520.0f), 0x7C00);  // the tie rounds to even: overflow
  EXPECT_EQ(float_to_half(-65520.0f), 0xFC00);
  EXPECT_EQ(float_to_half(1e10f), 0x7C00);
  EXPECT_EQ(float_to_half(INFINITY), 0x7C00);
  EXPECT_EQ(float_to_half(-INFINITY), 0xFC00);
  EXPECT_EQ(float_to_half(0x1.0p-14f), 0x0400);    // smallest normal
  EXPECT_EQ(float_to_half(0x1.ff8p-15f), 0x03FF);  // largest subnormal
  EXPECT_EQ(float_to_half(0x1.0p-24f), 0x0001);    // smallest subnormal
  EXPECT_EQ(float_to_half(0x1.0p-25f), 0x0000);    // tie between 0 and 2^-24: even is 0
  EXPECT_EQ(float_to_half(0x1.000002p-25f), 0x0001);
  EXPECT_EQ(float_to_half(0x1.8p-24f), 0x0002);  // 1.5 units: tie to even 2
  EXPECT_EQ(float_to_half(0x1.4p-23f), 0x0002);  // 2.5 units: tie to even 2
  EXPECT_EQ(float_to_half(1e-45f), 0x0000);      // float subnormal
  EXPECT_EQ(float_to_half(0.0f), 0x0000);
  EXPECT_EQ(float_to_half(-0.0f), 0x8000);
  EXPECT_EQ(float_to_half(1.0f + 0x1.0p-11f), 0x3C00);      // tie, 0x3C00 even
  EXPECT_EQ(float_to_half(1.0f + 3 * 0x1.0p-11f), 0x3C02);  // tie, 0x3C01 odd: up
  EXPECT_EQ(float_to_half(1.0f + 0x1.0p-11f + 0x1.0p-20f), 0x3C01);
  EXPECT_EQ(float_to_half(0x1.ffcp-15f), 0x0400);  // subnormal rounding up into the normals
  EXPECT_TRUE(half_is_nan(float_to_half(std::nanf(""))));
  EXPECT_TRUE(half_is_nan(float_to_half(-std::nanf(""))));
  // A NaN whose payload sits only in the low bits must not turn into infinity.
  EXPECT_TRUE(half_is_nan(float_to_half(std::bit_cast<float>(0x7F800001u))));
}

TEST(SparseHalf, KnownHalfToFloat) {
  EXPECT_EQ(half_to_float(0x3C00), 1.0f);
  EXPECT_EQ(half_to_float(0x7BFF), 65504.0f);
  EXPECT_EQ(half_to_float(0x0001), 0x1.0p-24f);
  EXPECT_EQ(half_to_float(0x03FF), 0x1.ff8p-15f);
  EXPECT_EQ(half_to_float(0x0400), 0x1.0p-14f);
  EXPECT_EQ(half_to_float(0xC000), -2.0f);
  EXPECT_EQ(half_to_float(0x7C00), INFINITY);
  EXPECT_EQ(half_to_float(0xFC00), -INFINITY);
  EXPECT_TRUE(std::isnan(half_to_float(0x7E00)));
  EXPECT_TRUE(std::isnan(half_to_float(0xFC01)));
  EXPECT_EQ(std::bit_cast<uint32_t>(half_to_float(0x8000)), 0x80000000u);
}

TEST(SparseHalf, EveryHalfRoundTripsAndHalvesAreMonotone) {
  int failures = 0;
  for (uint32_t h = 0; h < 0x10000; ++h) {
    const auto hh = static_cast<uint16_t>(h);
    const float f = half_to_float(hh);
    if (half_is_nan(hh)) {
      if (!(std::isnan(f) && half_is_nan(float_to_half(f))) && failures++ < 5)
        ADD_FAILURE() << "NaN " << std::hex << h << " did not stay NaN";
      continue;
    }
    if (float_to_half(f) != hh && failures++ < 5)
      ADD_FAILURE() << std::hex << h << " -> " << f << " -> " << float_to_half(f);
    if (h < 0x7C00 && !(f < half_to_float(static_cast<uint16_t>(h + 1))) && failures++ < 5)
      ADD_FAILURE() << "not increasing at " << std::hex << h;
  }
}

// Nearest half by bisection over the positive finite halves, ties to the even pattern.
uint16_t nearest_half(float f) {
  const uint16_t sign = std::signbit(f) ? 0x8000 : 0;
  const double a = std::fabs(double(f));
  if (a >= 65520.0) return sign | 0x7C00;
  uint16_t lo = 0, hi = 0x7BFF;  // largest h with half_to_float(h) <= a
  while (lo < hi) {
    const auto mid = static_cast<uint16_t>((lo + hi + 1) / 2);
    if (half_to_float(mid) <= a)
      lo = mid;
    else
      hi = static_cast<uint16_t>(mid - 1);
  }
  if (lo == 0x7BFF) return sign | lo;
  const double below = a - half_to_float(lo), above = half_to_float(uint16_t(lo + 1)) - a;
  const bool up = above < below || (above == below && (lo & 1));
  return sign | static_cast<uint16_t>(lo + up);
}

TEST(SparseHalf, RandomFloatsRoundToNearestEven) {
  Rng rng(5);
  int failures = 0;
  for (int i = 0; i < 300000; ++i) {
    // Half the draws anywhere in float, half within the half range, where rounding matters.
    const float f = i % 2 ? std::bit_cast<float>(uint32_t(rng.next_u64()))
                          : float(std::ldexp(rng.uniform(1.0, 2.0), int(rng.below(44)) - 28)) *
                                (rng.uniform() < 0.5 ? -1.0f : 1.0f);
    if (std::isnan(f)) continue;
    if (float_to_half(f) != nearest_half(f) && failures++ < 5)
      ADD_FAILURE() << std::hexfloat << f << ": " << std::hex << float_to_half(f) << ", nearest "
                    << nearest_half(f);
  }
}

}  // namespace
}  // namespace sculpt::sparse

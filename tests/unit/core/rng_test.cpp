// Rng: determinism, ranges and distribution moments.
#include "core/rng.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <numeric>
#include <vector>

namespace sculpt {
namespace {

TEST(Rng, SameSeedSameBits) {
  Rng a(7), b(7), c(8);
  for (int i = 0; i < 100; ++i) {
    uint64_t va = a.next_u64();
    EXPECT_EQ(va, b.next_u64());
    EXPECT_NE(va, c.next_u64());
  }
}

TEST(Rng, StateRoundTripContinuesTheStream) {
  Rng a(3);
  for (int i = 0; i < 10; ++i) a.next_u64();
  Rng b(99);
  b.set_state(a.state());
  for (int i = 0; i < 10; ++i) EXPECT_EQ(a.next_u64(), b.next_u64());
}

TEST(Rng, UniformMomentsMatchTheory) {
  Rng r(1);
  const int n = 200000;
  double sum = 0, sq = 0;
  for (int i = 0; i < n; ++i) {
    double u = r.uniform();
    ASSERT_GE(u, 0.0);
    ASSERT_LT(u, 1.0);
    sum += u;
    sq += u * u;
  }
  EXPECT_NEAR(sum / n, 0.5, 0.005);
  EXPECT_NEAR(sq / n - (sum / n) * (sum / n), 1.0 / 12, 0.002);
}

TEST(Rng, NormalMomentsMatchTheory) {
  Rng r(2);
  const int n = 200000;
  double sum = 0, sq = 0;
  for (int i = 0; i < n; ++i) {
    double z = r.normal();
    sum += z;
    sq += z * z;
  }
  EXPECT_NEAR(sum / n, 0.0, 0.01);
  EXPECT_NEAR(sq / n, 1.0, 0.01);
}

TEST(Rng, BelowIsInRangeAndCoversIt) {
  Rng r(5);
  std::vector<int> hits(7, 0);
  for (int i = 0; i < 7000; ++i) {
    uint64_t v = r.below(7);
    ASSERT_LT(v, 7u);
    ++hits[v];
  }
  for (int h : hits) EXPECT_GT(h, 800);
}

TEST(Rng, ShuffleIsAPermutationAndDependsOnSeed) {
  std::vector<int64_t> a(100), b(100);
  std::iota(a.begin(), a.end(), 0);
  std::iota(b.begin(), b.end(), 0);
  Rng r1(10), r2(11);
  r1.shuffle(a);
  r2.shuffle(b);
  EXPECT_NE(a, b);
  std::vector<int64_t> s = a;
  std::sort(s.begin(), s.end());
  for (int64_t i = 0; i < 100; ++i) EXPECT_EQ(s[i], i);
}

TEST(Rng, CounterUniformIsStatelessAndInRange) {
  for (uint64_t i = 0; i < 1000; ++i) {
    float u = counter_uniform(42, i);
    EXPECT_EQ(u, counter_uniform(42, i));
    EXPECT_GE(u, 0.0f);
    EXPECT_LT(u, 1.0f);
  }
  EXPECT_NE(counter_uniform(42, 1), counter_uniform(43, 1));
}

}  // namespace
}  // namespace sculpt

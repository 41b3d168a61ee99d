// Fused affine + transpose against its reference twin: full 16x16 tiles, ragged edges, thin
// shapes, one thread and several; and the affine map alone, in place.
#include "kernels/transpose.h"

#include <gtest/gtest.h>
#include <omp.h>

#include <vector>

#include "core/rng.h"

namespace sculpt::kernels {
namespace {

std::vector<float> random_vector(int64_t n, uint64_t seed) {
  Rng rng(seed);
  std::vector<float> v(static_cast<size_t>(n));
  for (float& x : v) x = static_cast<float>(rng.normal());
  return v;
}

TEST(Transpose, MatchesTheReferenceOnEveryShape) {
  const int64_t shapes[][2] = {{1, 1}, {1, 37}, {37, 1}, {16, 16}, {17, 33}, {32, 48},
                               {256, 784}, {784, 256}, {3, 100}, {100, 10}, {255, 17}};
  for (int threads : {1, 2}) {
    omp_set_num_threads(threads);
    for (const auto& s : shapes) {
      const int64_t rows = s[0], cols = s[1];
      const std::vector<float> x = random_vector(rows * cols, uint64_t(rows * 1000 + cols));
      std::vector<float> got(x.size(), -7.0f), want(x.size(), 7.0f);
      transpose_affine(x.data(), rows, cols, 0.25f, 1.75f, got.data());
      transpose_affine_reference(x.data(), rows, cols, 0.25f, 1.75f, want.data());
      EXPECT_EQ(got, want) << rows << "x" << cols << " on " << threads << " threads";
    }
  }
  omp_set_num_threads(2);
}

TEST(Transpose, TransposingTwiceIsTheIdentity) {
  const std::vector<float> x = random_vector(48 * 80, 5);
  std::vector<float> t(x.size()), back(x.size());
  transpose_affine(x.data(), 48, 80, 0.0f, 1.0f, t.data());
  transpose_affine(t.data(), 80, 48, 0.0f, 1.0f, back.data());
  EXPECT_EQ(back, x);
  EXPECT_EQ(t[1 * 48 + 0], x[0 * 80 + 1]);  // y[c, r] = x[r, c]
}

TEST(Affine, MatchesTheReferenceInPlace) {
  for (int64_t n : {int64_t{1}, int64_t{100}, int64_t{1} << 17}) {
    std::vector<float> x = random_vector(n, uint64_t(n)), want(x.size());
    affine_reference(x.data(), n, -0.5f, 3.0f, want.data());
    affine(x.data(), n, -0.5f, 3.0f, x.data());
    EXPECT_EQ(x, want) << n;
  }
}

}  // namespace
}  // namespace sculpt::kernels

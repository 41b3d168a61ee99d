// Element-wise kernels against their reference twins, below and above the parallel threshold.
#include "kernels/elementwise.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <limits>

#include "core/parallel.h"
#include "unit/kernels/random_fill.h"

namespace sculpt::kernels {
namespace {

using sculpt::testing::expect_near_all;
using sculpt::testing::random_vector;

// Sizes straddling the OpenMP threshold, odd on purpose.
const int64_t kSizes[] = {1, 7, 1000, kParallelThreshold + 13, 3 * kParallelThreshold + 1};

TEST(Elementwise, ScaleMatchesReference) {
  Rng rng(5);
  for (int64_t n : kSizes) {
    auto x = random_vector(size_t(n), rng), x_ref = x;
    scale(x.data(), n, 0.37f);
    scale_reference(x_ref.data(), n, 0.37f);
    EXPECT_EQ(x, x_ref) << n;
    EXPECT_NE(x[0], 0.0f);
  }
}

TEST(Elementwise, RowKernelsMatchReference) {
  Rng rng(5);
  for (auto [n, f] : {std::pair<int64_t, int64_t>{1, 1}, {3, 7}, {128, 300}, {257, 129}, {2, 65}}) {
    const auto row = random_vector(size_t(f), rng), dy = random_vector(size_t(n * f), rng);
    std::vector<float> y(size_t(n * f)), y_ref(size_t(n * f));
    fill_rows(y.data(), row.data(), n, f);
    fill_rows_reference(y_ref.data(), row.data(), n, f);
    EXPECT_EQ(y, y_ref);
    add_rows(y.data(), dy.data(), n, f);  // any [f] row works: use dy's first row
    add_rows_reference(y_ref.data(), dy.data(), n, f);
    expect_near_all(y, y_ref, 0, 0, "add_rows");
    auto db = random_vector(size_t(f), rng);
    auto db_ref = db;
    column_sums_add(dy.data(), n, f, db.data());
    column_sums_add_reference(dy.data(), n, f, db_ref.data());
    expect_near_all(db, db_ref, 1e-5 * std::sqrt(double(n)), 1e-5, "column_sums_add");
  }
}

// Linear's fused bias + ReLU epilogue and its gradient: the bits of the passes apart (add_rows
// then ReLU; ReLU's backward then column_sums_add) and the reference within rounding.
TEST(Elementwise, FusedReluRowKernelsMatchThePassesApart) {
  Rng rng(6);
  for (auto [n, f] : {std::pair<int64_t, int64_t>{1, 1}, {3, 7}, {128, 300}, {257, 129}, {2, 65}}) {
    const auto row = random_vector(size_t(f), rng), dy = random_vector(size_t(n * f), rng);
    auto y = random_vector(size_t(n * f), rng);
    auto apart = y, ref = y;
    add_rows_relu(y.data(), row.data(), n, f);
    add_rows(apart.data(), row.data(), n, f);
    for (float& v : apart) v = v > 0.0f ? v : 0.0f;
    add_rows_relu_reference(ref.data(), row.data(), n, f);
    EXPECT_EQ(y, apart);
    EXPECT_EQ(y, ref);
    if (n * f > 100) ASSERT_GT(std::count(y.begin(), y.end(), 0.0f), 0);  // some units are off
    std::vector<float> dx(y.size()), dx_ref(y.size()), masked(y.size());
    auto db = random_vector(size_t(f), rng);
    auto db_apart = db, db_ref = db;
    relu_backward_column_sums(dy.data(), y.data(), n, f, dx.data(), db.data());
    for (size_t i = 0; i < y.size(); ++i) masked[i] = y[i] > 0.0f ? dy[i] : 0.0f;
    column_sums_add(masked.data(), n, f, db_apart.data());
    relu_backward_column_sums_reference(dy.data(), y.data(), n, f, dx_ref.data(), db_ref.data());
    EXPECT_EQ(dx, masked);
    EXPECT_EQ(dx, dx_ref);
    EXPECT_EQ(db, db_apart);
    expect_near_all(db, db_ref, 1e-5 * std::sqrt(double(n)), 1e-5, "relu_backward_column_sums");
  }
}

TEST(Elementwise, ReductionsMatchReference) {
  Rng rng(9);
  for (int64_t n : kSizes) {
    const auto x = random_vector(size_t(n), rng, -3, 3);
    EXPECT_NEAR(sum(x.data(), n), sum_reference(x.data(), n), 1e-9 * n);
    EXPECT_EQ(max_abs(x.data(), n), max_abs_reference(x.data(), n));
    EXPECT_TRUE(all_finite(x.data(), n));
  }
}

TEST(Elementwise, NonFiniteValuesAreDetectedAnywhere) {
  const int64_t n = 2 * kParallelThreshold + 5;
  for (float bad : {std::numeric_limits<float>::infinity(), -std::numeric_limits<float>::infinity(),
                    std::nanf("")}) {
    for (int64_t at : {int64_t{0}, n / 2, n - 1}) {
      std::vector<float> x(size_t(n), 1.0f);
      x[size_t(at)] = bad;
      EXPECT_FALSE(all_finite(x.data(), n)) << bad << " at " << at;
      EXPECT_EQ(all_finite(x.data(), n), all_finite_reference(x.data(), n));
      if (std::isnan(bad))
        EXPECT_TRUE(std::isnan(max_abs(x.data(), n)));
      else
        EXPECT_EQ(max_abs(x.data(), n), std::numeric_limits<float>::infinity());
    }
  }
}

TEST(Elementwise, SumIsDeterministicForAFixedThreadCount) {
  Rng rng(11);
  const int64_t n = 4 * kParallelThreshold + 3;
  const auto x = random_vector(size_t(n), rng);
  const double first = sum(x.data(), n);
  for (int i = 0; i < 5; ++i) EXPECT_EQ(sum(x.data(), n), first);
}

}  // namespace
}  // namespace sculpt::kernels

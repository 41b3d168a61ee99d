// spmv/spmm on every instruction set this CPU runs, against the double-precision reference
// twins: densities 0..1, degenerate and wide (32-bit index) shapes, column counts around the
// 16/128-lane boundaries, padded leading dimensions, bias and ReLU, and several threads.
#include <gtest/gtest.h>
#include <omp.h>

#include <cmath>
#include <limits>
#include <string>
#include <vector>

#include "core/cpu.h"
#include "core/error.h"
#include "core/parallel.h"
#include "core/rng.h"
#include "sparse/csr.h"
#include "unit/sparse/sparse_test_util.h"

namespace sculpt::sparse {
namespace {

// One spmm call (and, for n == 1, one spmv call) against the reference.
void check_case(const Csr& a, int64_t n, int64_t pad, bool with_bias, Act act, Rng& rng,
                const std::string& what) {
  const int64_t ldx = n + pad, ldy = n + pad;
  std::vector<float> X = random_vec(a.cols * ldx, rng);
  // NaN in X's padding: any read past column n would poison an output.
  for (int64_t k = 0; k < a.cols; ++k)
    for (int64_t j = n; j < ldx; ++j) X[size_t(k * ldx + j)] = std::nanf("");
  const std::vector<float> bias_v = random_vec(a.rows, rng);
  const float* bias = with_bias ? bias_v.data() : nullptr;
  std::vector<float> Y(size_t(a.rows * ldy), kSentinel), Y_ref = Y;
  spmm(a, X.data(), ldx, n, bias, Y.data(), ldy, act);
  spmm_reference(a, X.data(), ldx, n, bias, Y_ref.data(), ldy, act);
  expect_matches(a, X, ldx, n, bias, Y, Y_ref, ldy, "spmm " + what);
  if (n == 1 && pad == 0) {
    std::vector<float> y(size_t(a.rows), kSentinel), y_ref = y;
    spmv(a, X.data(), bias, y.data(), act);
    spmv_reference(a, X.data(), bias, y_ref.data(), act);
    expect_matches(a, X, 1, 1, bias, y, y_ref, 1, "spmv " + what);
  }
}

std::string describe(const std::string& isa, const Csr& a, double density, int64_t n, int64_t pad,
                     bool bias, Act act) {
  return fmt::format("[{}] {}x{} density {} n {} pad {} bias {} relu {}", isa, a.rows, a.cols,
                     density, n, pad, bias, act == Act::kRelu);
}

TEST(SparseKernels, EveryIsaMatchesReference) {
  IsaGuard guard;
  struct Shape {
    int64_t rows, cols;
  };
  const Shape shapes[] = {{1, 1}, {1, 37}, {37, 1}, {5, 300}, {33, 100}};
  const double densities[] = {0.0, 0.01, 0.05, 0.3, 1.0};
  const int64_t ns[] = {1, 3, 16, 17, 100, 256, 257};
  for (const std::string& isa : available_isas()) {
    force_kernel_isa(isa);
    ASSERT_EQ(std::string(kernel_isa()), isa);
    Rng rng(42);
    int variant = 0;  // cycles padding, bias and ReLU through all 8 combinations
    for (const Shape& s : shapes)
      for (double d : densities) {
        const Csr a = csr_from_dense(random_dense(s.rows, s.cols, d, rng).data(), s.rows, s.cols);
        for (int64_t n : ns) {
          const int64_t pad = (variant & 1) ? 5 : 0;
          const bool bias = variant & 2;
          const Act act = (variant & 4) ? Act::kRelu : Act::kNone;
          ++variant;
          check_case(a, n, pad, bias, act, rng, describe(isa, a, d, n, pad, bias, act));
          if (n == 1) check_case(a, 1, 0, !bias, act, rng, describe(isa, a, d, 1, 0, !bias, act));
        }
      }
  }
}

TEST(SparseKernels, WideMatricesUse32BitIndices) {
  IsaGuard guard;
  Rng rng(7);
  for (const std::string& isa : available_isas()) {
    force_kernel_isa(isa);
    for (double d : {0.0, 0.01, 0.05, 0.3, 1.0}) {
      const Csr a = csr_from_dense(random_dense(3, 70000, d, rng).data(), 3, 70000);
      ASSERT_FALSE(a.narrow());
      ASSERT_EQ(size_t(a.nnz()), a.col32.size());
      // spmv for every density; spmm only where X stays small.
      check_case(a, 1, 0, true, Act::kNone, rng, describe(isa, a, d, 1, 0, true, Act::kNone));
      if (d <= 0.05)
        for (int64_t n : {3, 17})
          check_case(a, n, 2, false, Act::kRelu, rng, describe(isa, a, d, n, 2, false, Act::kRelu));
    }
  }
}

TEST(SparseKernels, LastColumnOfNarrowAndFirstWideShape) {
  IsaGuard guard;
  Rng rng(8);
  for (const std::string& isa : available_isas()) {
    force_kernel_isa(isa);
    for (int64_t cols : {int64_t{65536}, int64_t{65537}}) {
      // Nonzeros at the highest columns: index 65535 must survive the 16-bit path.
      std::vector<float> w(size_t(2 * cols), 0.0f);
      for (int64_t c = cols - 20; c < cols; ++c) w[size_t(c)] = w[size_t(cols + c)] = 0.5f;
      w[size_t(cols + 3)] = -1.0f;
      const Csr a = csr_from_dense(w.data(), 2, cols);
      EXPECT_EQ(a.narrow(), cols == 65536);
      check_case(a, 1, 0, false, Act::kNone, rng, describe(isa, a, 0, 1, 0, false, Act::kNone));
      check_case(a, 19, 1, true, Act::kNone, rng, describe(isa, a, 0, 19, 1, true, Act::kNone));
    }
  }
}

TEST(SparseKernels, EmptyRowsGiveBiasThroughActivation) {
  IsaGuard guard;
  Rng rng(9);
  // Every other row empty, the others of varied length (0..40 nonzeros).
  std::vector<float> w(size_t(24 * 64), 0.0f);
  for (int64_t r = 1; r < 24; r += 2)
    for (int64_t c = 0; c < std::min<int64_t>(64, 3 * r); ++c) w[size_t(r * 64 + c)] = 0.25f;
  const Csr a = csr_from_dense(w.data(), 24, 64);
  for (const std::string& isa : available_isas()) {
    force_kernel_isa(isa);
    for (int64_t n : {1, 17, 130}) {
      const std::vector<float> X = random_vec(64 * n, rng), bias = random_vec(24, rng);
      std::vector<float> Y(size_t(24 * n));
      spmm(a, X.data(), n, n, bias.data(), Y.data(), n, Act::kRelu);
      for (int64_t r = 0; r < 24; r += 2)
        for (int64_t j = 0; j < n; ++j)
          EXPECT_EQ(Y[size_t(r * n + j)], std::max(bias[size_t(r)], 0.0f)) << isa << " " << r;
      check_case(a, n, 3, true, Act::kRelu, rng, describe(isa, a, 0, n, 3, true, Act::kRelu));
    }
  }
}

TEST(SparseKernels, ReluMapsNaNToZeroLikeTheReference) {
  IsaGuard guard;
  const std::vector<float> w = {1.0f, 1.0f};
  const Csr a = csr_from_dense(w.data(), 1, 2);
  for (const std::string& isa : available_isas()) {
    force_kernel_isa(isa);
    const std::vector<float> X = {std::nanf(""), 0.0f};
    float y = kSentinel;
    spmv(a, X.data(), nullptr, &y, Act::kRelu);
    EXPECT_EQ(y, 0.0f) << isa;
    spmm(a, X.data(), 1, 1, nullptr, &y, 1, Act::kNone);
    EXPECT_TRUE(std::isnan(y)) << isa;
  }
}

// Above the fork/join thresholds; results must be bitwise identical for 1 and 2 threads
// (every output is summed by one thread in the same order) and match the reference.
TEST(SparseKernels, ThreadsSplitRowsOrColumnsWithoutChangingResults) {
  IsaGuard guard;
  Rng rng(10);
  struct Case {
    int64_t rows, cols, n;
  };
  // Uneven rows (dense top half) so the nonzero-balanced split differs from a row split.
  const Case cases[] = {{600, 1000, 1}, {64, 300, 257}, {6, 1000, 784}};
  for (const std::string& isa : available_isas()) {
    force_kernel_isa(isa);
    for (const Case& c : cases) {
      std::vector<float> w = random_dense(c.rows, c.cols, 0.3, rng);
      for (int64_t i = 0; i < c.rows * c.cols / 3; ++i) w[size_t(i)] = 0.5f;
      const Csr a = csr_from_dense(w.data(), c.rows, c.cols);
      const std::vector<float> X = random_vec(c.cols * c.n, rng), bias = random_vec(c.rows, rng);
      std::vector<float> Y1(size_t(c.rows * c.n), kSentinel), Y2 = Y1, Y_ref = Y1;
      for (int threads : {1, 2}) {
        set_threads(threads);
        float* Y = threads == 1 ? Y1.data() : Y2.data();
        if (c.n == 1)
          spmv(a, X.data(), bias.data(), Y, Act::kRelu);
        else
          spmm(a, X.data(), c.n, c.n, bias.data(), Y, c.n, Act::kRelu);
      }
      spmm_reference(a, X.data(), c.n, c.n, bias.data(), Y_ref.data(), c.n, Act::kRelu);
      const std::string what = describe(isa, a, 0.3, c.n, 0, true, Act::kRelu);
      EXPECT_EQ(Y1, Y2) << what;
      expect_matches(a, X, c.n, c.n, bias.data(), Y2, Y_ref, c.n, what);
    }
  }
}

TEST(SparseKernels, ForcingAnIsa) {
  IsaGuard guard;
  const std::string best = kernel_isa();
  force_kernel_isa("scalar");
  EXPECT_STREQ(kernel_isa(), "scalar");
  force_kernel_isa("");
  EXPECT_EQ(kernel_isa(), best);
  try {
    force_kernel_isa("sse9");
    FAIL() << "unknown ISA accepted";
  } catch (const ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("sse9"), std::string::npos) << e.what();
  }
  EXPECT_EQ(kernel_isa(), best);
  // Tests may force any variant the CPU runs, SCULPT_ISA or not; never one it lacks.
  if (detected_isa() < Isa::kAvx512) EXPECT_THROW(force_kernel_isa("avx512"), ConfigError);
}

TEST(SparseKernels, RejectsInconsistentShapesCheaply) {
  const std::vector<float> w = {1, 0, 2, 0, 0, 3};
  const Csr good = csr_from_dense(w.data(), 2, 3);
  std::vector<float> X(3 * 4, 1.0f), Y(2 * 4);
  EXPECT_THROW(spmm(good, X.data(), 3, 4, nullptr, Y.data(), 4, Act::kNone), ShapeError);
  EXPECT_THROW(spmm(good, X.data(), 4, 4, nullptr, Y.data(), 3, Act::kNone), ShapeError);
  EXPECT_THROW(spmm(good, X.data(), 4, -1, nullptr, Y.data(), 4, Act::kNone), ShapeError);
  Csr bad = good;
  bad.row_ptr.pop_back();
  EXPECT_THROW(spmv(bad, X.data(), nullptr, Y.data(), Act::kNone), ShapeError);
  bad = good;
  bad.values.push_back(4.0f);
  EXPECT_THROW(spmv(bad, X.data(), nullptr, Y.data(), Act::kNone), ShapeError);
  spmm(good, X.data(), 4, 0, nullptr, Y.data(), 4, Act::kNone);  // n = 0: nothing to do
}

}  // namespace
}  // namespace sculpt::sparse

// The windowed batch-1 layout: every entry in exactly one slot lane inside its window, spmv
// against the double-precision reference on every instruction set (same bits on all of them),
// unused lanes kept away from non-finite inputs, and thread counts that change nothing.
#include "sparse/windowed.h"

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <string>
#include <vector>

#include "core/error.h"
#include "core/parallel.h"
#include "core/rng.h"
#include "unit/sparse/sparse_test_util.h"

namespace sculpt::sparse {
namespace {

// The dense matrix the slots describe, checking each slot's window and lanes on the way.
std::vector<float> expand(const Windowed& w) {
  std::vector<float> out(size_t(w.rows * w.cols), 0.0f);
  EXPECT_EQ(w.group_slots.size(), size_t((w.rows + 15) / 16 + 1));
  int64_t stored = 0;
  for (int64_t g = 0; g < w.groups(); ++g) {
    for (uint32_t s = w.group_slots[size_t(g)]; s < w.group_slots[size_t(g) + 1]; ++s) {
      EXPECT_LE(int64_t(w.base[s]) + Windowed::kWindow, std::max<int64_t>(w.cols, 32));
      bool any = false;
      for (int64_t i = 0; i < 16; ++i) {
        const float v = w.values[size_t(s) * 16 + size_t(i)];
        const int64_t r = g * 16 + i, c = int64_t(w.base[s]) + w.lane_col[size_t(s) * 16 + size_t(i)];
        EXPECT_LT(w.lane_col[size_t(s) * 16 + size_t(i)], Windowed::kWindow);
        if (v == 0.0f) continue;  // an unused lane
        any = true;
        ++stored;
        EXPECT_LT(r, w.rows) << "slot " << s << " lane " << i;
        EXPECT_LT(c, w.cols) << "slot " << s << " lane " << i;
        if (r >= w.rows || c >= w.cols) continue;
        EXPECT_EQ(out[size_t(r * w.cols + c)], 0.0f) << "entry (" << r << ", " << c << ") twice";
        out[size_t(r * w.cols + c)] = v;
      }
      EXPECT_TRUE(any) << "slot " << s << " carries nothing";
    }
  }
  EXPECT_EQ(stored, w.nnz);
  return out;
}

struct Shape {
  int64_t rows, cols;
};

TEST(Windowed, HoldsEveryEntryOnceInsideItsWindow) {
  Rng rng(3);
  const Shape shapes[] = {{0, 5}, {1, 1}, {16, 31}, {17, 32}, {33, 33}, {300, 784}, {5, 70000}};
  for (const Shape& s : shapes)
    for (double d : {0.0, 0.05, 0.3, 1.0}) {
      const std::vector<float> dense = random_dense(s.rows, s.cols, d, rng);
      const Csr a = csr_from_dense(dense.data(), s.rows, s.cols);
      const Windowed w = windowed_from_csr(a);
      EXPECT_EQ(expand(w), dense) << s.rows << "x" << s.cols << " density " << d;
      // A row's entries take one slot each at most, and a slot at least one entry.
      int64_t longest = 0;
      for (int64_t r = 0; r < s.rows; ++r)
        longest = std::max<int64_t>(longest, a.row_ptr[size_t(r + 1)] - a.row_ptr[size_t(r)]);
      EXPECT_LE(w.slots(), a.nnz());
      EXPECT_GE(w.slots(), longest);
    }
}

// The reason for the layout: at 5% density a slot carries several entries.
TEST(Windowed, PacksAFivePercentLayerDensely) {
  Rng rng(4);
  const Csr a = csr_from_dense(random_dense(300, 784, 0.05, rng).data(), 300, 784);
  const Windowed w = windowed_from_csr(a);
  EXPECT_GT(double(a.nnz()) / double(w.slots()), 6.0) << a.nnz() << " entries, " << w.slots()
                                                      << " slots";
}

TEST(Windowed, SpmvMatchesReferenceWithTheSameBitsOnEveryIsa) {
  IsaGuard guard;
  const Shape shapes[] = {{1, 1}, {3, 7}, {16, 31}, {17, 32}, {33, 100}, {300, 784}, {3, 70000}};
  Rng rng(5);
  int variant = 0;
  for (const Shape& s : shapes)
    for (double d : {0.0, 0.01, 0.05, 0.3, 1.0}) {
      const Csr a = csr_from_dense(random_dense(s.rows, s.cols, d, rng).data(), s.rows, s.cols);
      const Windowed w = windowed_from_csr(a);
      const std::vector<float> x = random_vec(s.cols, rng), bias_v = random_vec(s.rows, rng);
      const float* bias = (variant & 1) ? bias_v.data() : nullptr;
      const Act act = (variant & 2) ? Act::kRelu : Act::kNone;
      ++variant;
      std::vector<float> ref(size_t(s.rows), kSentinel);
      spmv_reference(a, x.data(), bias, ref.data(), act);
      std::vector<float> first;
      for (const std::string& isa : available_isas()) {
        force_kernel_isa(isa);
        std::vector<float> y(size_t(s.rows), kSentinel);
        spmv(w, x.data(), bias, y.data(), act);
        const std::string what = fmt::format("[{}] {}x{} density {} bias {} relu {}", isa, s.rows,
                                             s.cols, d, bias != nullptr, act == Act::kRelu);
        expect_matches(a, x, 1, 1, bias, y, ref, 1, what);
        if (first.empty())
          first = y;
        else
          EXPECT_EQ(y, first) << what << ": differs from the scalar kernel";
      }
    }
}

// An infinite input must reach only the rows that use it: unused lanes multiply nothing.
TEST(Windowed, NonFiniteInputsStayInTheirRows) {
  IsaGuard guard;
  std::vector<float> dense(size_t(32 * 64), 0.0f);
  for (int64_t r = 0; r < 32; ++r) dense[size_t(r * 64 + r)] = 1.0f;  // row r reads x[r] only
  dense[size_t(5 * 64 + 40)] = 2.0f;
  const Windowed w = windowed_from_csr(csr_from_dense(dense.data(), 32, 64));
  std::vector<float> x(64, 1.0f);
  x[3] = std::numeric_limits<float>::infinity();
  x[40] = std::nanf("");
  // Column 32 is in no row, but row 5's second slot has its window at 32: the lanes of the
  // other rows start there and must not pick up inf * 0.
  x[32] = std::numeric_limits<float>::infinity();
  for (const std::string& isa : available_isas()) {
    force_kernel_isa(isa);
    std::vector<float> y(32);
    spmv(w, x.data(), nullptr, y.data(), Act::kNone);
    for (int64_t r = 0; r < 32; ++r) {
      if (r == 3)
        EXPECT_TRUE(std::isinf(y[size_t(r)])) << isa;
      else if (r == 5)
        EXPECT_TRUE(std::isnan(y[size_t(r)])) << isa;
      else
        EXPECT_EQ(y[size_t(r)], 1.0f) << isa << " row " << r;
    }
  }
}

// Above the fork threshold: 1 and 2 threads give the same bits.
TEST(Windowed, ThreadsChangeNothing) {
  IsaGuard guard;
  Rng rng(6);
  const Csr a = csr_from_dense(random_dense(2000, 2000, 0.3, rng).data(), 2000, 2000);
  const Windowed w = windowed_from_csr(a);
  ASSERT_GT(w.slots(), 2 * 8192) << "too small to fork";
  const std::vector<float> x = random_vec(2000, rng), bias = random_vec(2000, rng);
  for (const std::string& isa : available_isas()) {
    force_kernel_isa(isa);
    std::vector<float> y1(2000), y2(2000);
    set_threads(1);
    spmv(w, x.data(), bias.data(), y1.data(), Act::kRelu);
    set_threads(2);
    spmv(w, x.data(), bias.data(), y2.data(), Act::kRelu);
    EXPECT_EQ(y1, y2) << isa;
  }
}

TEST(Windowed, RejectsAnInconsistentMatrix) {
  const std::vector<float> dense = {1, 0, 2, 0, 0, 3};
  Windowed w = windowed_from_csr(csr_from_dense(dense.data(), 2, 3));
  std::vector<float> x(3, 1.0f), y(2);
  w.values.pop_back();
  EXPECT_THROW(spmv(w, x.data(), nullptr, y.data(), Act::kNone), ShapeError);
  w = windowed_from_csr(csr_from_dense(dense.data(), 2, 3));
  w.rows = 17;
  EXPECT_THROW(spmv(w, x.data(), nullptr, y.data(), Act::kNone), ShapeError);
}

}  // namespace
}  // namespace sculpt::sparse

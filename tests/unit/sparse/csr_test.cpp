// Csr construction (csr_from_dense / csr_to_dense round trips, index width, density) and
// validate(): every kind of corruption a file could carry is rejected with a message that
// names the problem and the source, without reading out of bounds (ASan in the debug preset).
#include "sparse/csr.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <functional>
#include <string>
#include <vector>

#include "core/error.h"
#include "core/rng.h"

namespace sculpt::sparse {
namespace {

TEST(SparseCsr, RoundTripsDenseExactly) {
  Rng rng(1);
  for (int64_t cols : {int64_t{1}, int64_t{7}, int64_t{300}, int64_t{70000}}) {
    for (double density : {0.0, 0.05, 0.5, 1.0}) {
      const int64_t rows = cols > 1000 ? 2 : 9;
      std::vector<float> w(size_t(rows * cols), 0.0f);
      for (auto& v : w)
        if (rng.uniform() < density) v = float(rng.normal());
      const Csr a = csr_from_dense(w.data(), rows, cols);
      validate(a, "round trip");
      EXPECT_EQ(a.narrow(), cols <= 65536);
      int64_t nonzero = 0;
      for (float v : w) nonzero += v != 0.0f;
      EXPECT_EQ(a.nnz(), nonzero);
      EXPECT_DOUBLE_EQ(a.density(), double(nonzero) / double(rows * cols));
      std::vector<float> back(w.size(), 99.0f);
      csr_to_dense(a, back.data());
      EXPECT_EQ(std::memcmp(back.data(), w.data(), w.size() * sizeof(float)), 0)
          << rows << "x" << cols << " density " << density;
    }
  }
}

TEST(SparseCsr, KeepsNaNAndDropsSignedZero) {
  const std::vector<float> w = {0.0f, -0.0f, std::nanf(""), 1e-38f, 0.0f, -2.0f};
  const Csr a = csr_from_dense(w.data(), 2, 3);
  ASSERT_EQ(a.nnz(), 3);
  EXPECT_EQ(a.row_ptr, (std::vector<uint32_t>{0, 1, 3}));
  EXPECT_EQ(a.col16, (std::vector<uint16_t>{2, 0, 2}));
  EXPECT_TRUE(std::isnan(a.values[0]));
  EXPECT_EQ(a.values[1], 1e-38f);
  std::vector<float> back(6);
  csr_to_dense(a, back.data());
  EXPECT_FALSE(std::signbit(back[1]));  // -0.0 was not stored
}

TEST(SparseCsr, EmptyShapes) {
  const Csr none = csr_from_dense(nullptr, 0, 5);
  EXPECT_EQ(none.row_ptr, std::vector<uint32_t>{0});
  EXPECT_EQ(none.density(), 0.0);
  validate(none, "empty");
  const std::vector<float> w(4, 0.0f);
  const Csr zeros = csr_from_dense(w.data(), 4, 1);
  EXPECT_EQ(zeros.nnz(), 0);
  EXPECT_EQ(zeros.density(), 0.0);
  validate(zeros, "zeros");
  EXPECT_THROW(csr_from_dense(w.data(), -1, 4), ShapeError);
}

// A valid 3 x 5 matrix: row 0 {1, 3}, row 1 empty, row 2 {0, 2, 4}.
Csr sample(int64_t cols = 5) {
  std::vector<float> w(size_t(3 * cols), 0.0f);
  w[1] = 1;
  w[3] = 2;
  w[size_t(2 * cols)] = 3;
  w[size_t(2 * cols + 2)] = 4;
  w[size_t(2 * cols + 4)] = 5;
  return csr_from_dense(w.data(), 3, cols);
}

void expect_rejected(const std::function<void(Csr&)>& corrupt, const std::string& needle,
                     int64_t cols = 5) {
  Csr a = sample(cols);
  validate(a, "ok");
  corrupt(a);
  try {
    validate(a, "model.safetensors:fc1");
    ADD_FAILURE() << "not rejected; expected a message with '" << needle << "'";
  } catch (const DataError& e) {
    const std::string msg = e.what();
    EXPECT_NE(msg.find(needle), std::string::npos) << msg;
    EXPECT_NE(msg.find("model.safetensors:fc1"), std::string::npos) << msg;
  }
}

TEST(SparseCsr, ValidateRejectsEachCorruption) {
  expect_rejected([](Csr& a) { a.row_ptr.pop_back(); }, "row_ptr has 3 entries");
  expect_rejected([](Csr& a) { a.row_ptr.push_back(5); }, "row_ptr has 5 entries");
  expect_rejected([](Csr& a) { a.row_ptr[0] = 1; }, "starts at 1");
  expect_rejected([](Csr& a) { a.row_ptr[3] = 4; }, "ends at 4");
  expect_rejected([](Csr& a) { a.row_ptr = {0, 3, 1, 5}; }, "decreases at row 1");
  // Offsets far past the arrays: rejected before any column is read.
  expect_rejected([](Csr& a) { a.row_ptr = {0, 4000000000u, 2, 5}; }, "decreases at row 1");
  expect_rejected([](Csr& a) { a.col16[4] = 5; }, "column 5 >= cols 5");
  expect_rejected([](Csr& a) { a.col16[3] = 0; }, "not strictly ascending (0 then 0)");
  expect_rejected([](Csr& a) { std::swap(a.col16[0], a.col16[1]); }, "(3 then 1)");
  expect_rejected([](Csr& a) { a.col16.pop_back(); }, "4 16-bit");
  expect_rejected([](Csr& a) { a.values.push_back(1.0f); }, "6 values");
  expect_rejected([](Csr& a) { a.col32.assign(a.col16.begin(), a.col16.end()); }, "expects 16-bit");
  expect_rejected([](Csr& a) { a.col32.clear(); }, "expects 32-bit", 70000);
  expect_rejected([](Csr& a) { a.col32[1] = 70000; }, "column 70000 >= cols 70000", 70000);
  expect_rejected([](Csr& a) { a.cols = 4; }, "column 4 >= cols 4");
  expect_rejected([](Csr& a) { a.rows = -1; }, "negative shape");
  expect_rejected([](Csr& a) { a.rows = 4; }, "expected rows + 1 = 5");
}

}  // namespace
}  // namespace sculpt::sparse

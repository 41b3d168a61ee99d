// Csr construction, expansion and validation. Not on a hot path: clarity first.
#include "sparse/csr.h"

#include <fmt/format.h>

#include <cstring>
#include <limits>

#include "core/error.h"

namespace sculpt::sparse {

double Csr::density() const {
  const double total = static_cast<double>(rows) * static_cast<double>(cols);
  return total > 0 ? static_cast<double>(nnz()) / total : 0.0;
}

Csr csr_from_dense(const float* w, int64_t rows, int64_t cols) {
  SCULPT_CHECK(rows >= 0 && cols >= 0, ShapeError,
               fmt::format("negative matrix shape [{}, {}]", rows, cols), "sparse::csr_from_dense");
  Csr a;
  a.rows = rows;
  a.cols = cols;
  // Count first so that the arrays are allocated once, at their exact size.
  int64_t count = 0;
  for (int64_t i = 0; i < rows * cols; ++i) count += w[i] != 0.0f;
  SCULPT_CHECK(count <= std::numeric_limits<uint32_t>::max(), ShapeError,
               fmt::format("{} nonzeros do not fit 32-bit row offsets", count),
               "sparse::csr_from_dense", "split the matrix");
  a.row_ptr.resize(static_cast<size_t>(rows) + 1);
  a.values.reserve(static_cast<size_t>(count));
  if (a.narrow())
    a.col16.reserve(static_cast<size_t>(count));
  else
    a.col32.reserve(static_cast<size_t>(count));
  a.row_ptr[0] = 0;
  for (int64_t r = 0; r < rows; ++r) {
    const float* row = w + r * cols;
    for (int64_t c = 0; c < cols; ++c) {
      if (row[c] == 0.0f) continue;
      a.values.push_back(row[c]);
      if (a.narrow())
        a.col16.push_back(static_cast<uint16_t>(c));
      else
        a.col32.push_back(static_cast<uint32_t>(c));
    }
    a.row_ptr[static_cast<size_t>(r) + 1] = static_cast<uint32_t>(a.values.size());
  }
  return a;
}

void csr_to_dense(const Csr& a, float* out) {
  std::memset(out, 0, static_cast<size_t>(a.rows * a.cols) * sizeof(float));
  for (int64_t r = 0; r < a.rows; ++r) {
    for (uint32_t p = a.row_ptr[r]; p < a.row_ptr[r + 1]; ++p) {
      const int64_t c = a.narrow() ? a.col16[p] : a.col32[p];
      out[r * a.cols + c] = a.values[p];
    }
  }
}

namespace {

// Checks one row's columns; Col is uint16_t or uint32_t. Offsets are already known in range.
template <class Col>
void validate_rows(const Csr& a, const std::vector<Col>& col, const std::string& where) {
  for (int64_t r = 0; r < a.rows; ++r) {
    const uint32_t b = a.row_ptr[static_cast<size_t>(r)], e = a.row_ptr[static_cast<size_t>(r) + 1];
    for (uint32_t p = b; p < e; ++p) {
      SCULPT_CHECK(col[p] < a.cols, DataError,
                   fmt::format("row {} has column {} >= cols {}", r, col[p], a.cols), where);
      SCULPT_CHECK(
          p == b || col[p - 1] < col[p], DataError,
          fmt::format("row {}: columns not strictly ascending ({} then {})", r, col[p - 1], col[p]),
          where);
    }
  }
}

}  // namespace

void validate(const Csr& a, const std::string& where) {
  const auto nnz = static_cast<uint64_t>(a.values.size());
  SCULPT_CHECK(a.rows >= 0 && a.cols >= 0, DataError,
               fmt::format("negative shape [{}, {}]", a.rows, a.cols), where);
  SCULPT_CHECK(
      a.row_ptr.size() == static_cast<uint64_t>(a.rows) + 1, DataError,
      fmt::format("row_ptr has {} entries, expected rows + 1 = {}", a.row_ptr.size(), a.rows + 1),
      where);
  const size_t want16 = a.narrow() ? nnz : 0, want32 = a.narrow() ? 0 : nnz;
  SCULPT_CHECK(a.col16.size() == want16 && a.col32.size() == want32, DataError,
               fmt::format("{} values but {} 16-bit and {} 32-bit column indices (cols {} "
                           "expects {}-bit)",
                           nnz, a.col16.size(), a.col32.size(), a.cols, a.narrow() ? 16 : 32),
               where);
  SCULPT_CHECK(a.row_ptr.front() == 0, DataError,
               fmt::format("row_ptr starts at {}, expected 0", a.row_ptr.front()), where);
  SCULPT_CHECK(a.row_ptr.back() == nnz, DataError,
               fmt::format("row_ptr ends at {}, expected nnz = {}", a.row_ptr.back(), nnz), where);
  for (size_t r = 0; r + 1 < a.row_ptr.size(); ++r) {
    SCULPT_CHECK(
        a.row_ptr[r] <= a.row_ptr[r + 1], DataError,
        fmt::format("row_ptr decreases at row {} ({} then {})", r, a.row_ptr[r], a.row_ptr[r + 1]),
        where);
  }
  // Offsets now run from 0 to nnz without decreasing, so every row's range is in bounds.
  if (a.narrow())
    validate_rows(a, a.col16, where);
  else
    validate_rows(a, a.col32, where);
}

}  // namespace sculpt::sparse

// Sparse weight matrices in CSR form and the kernels that multiply them with dense activations
// (spmv at batch 1, spmm for batches and im2col'd convolutions), dispatched at run time to
// AVX-512, AVX2 or scalar code. Used by the inference runtime on pruned models.
//
// Legend: A is [rows, cols] (a Linear weight [out, in] or a conv weight [out_c, c*kh*kw]);
// x is [cols], y is [rows]; X is [cols, n] and Y is [rows, n], feature-major, so a row of X is
// n contiguous activations and spmm vectorises over n.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/tensor.h"

namespace sculpt::sparse {

// Compressed sparse rows of a row-major matrix. Invariants (checked by validate()):
// row_ptr has rows + 1 entries, starts at 0, never decreases, ends at nnz; within a row the
// columns ascend strictly and are < cols; exactly one of col16/col32 holds nnz indices.
struct Csr {
  int64_t rows = 0, cols = 0;
  std::vector<uint32_t> row_ptr;  // rows + 1 entries
  std::vector<uint16_t> col16;    // column indices when narrow(), else empty
  std::vector<uint32_t> col32;    // column indices otherwise
  AlignedVector<float> values;    // nnz values, row by row, columns ascending
  int64_t nnz() const { return static_cast<int64_t>(values.size()); }
  // 16-bit indices halve index traffic; every column of a 65536-wide matrix still fits.
  bool narrow() const { return cols <= 65536; }
  double density() const;  // nnz / (rows * cols), 0 for an empty matrix
};

// Keeps the entries != 0 exactly (NaN is kept, -0.0 dropped). w is [rows, cols] row-major.
// Throws ShapeError for negative sizes or more than 2^32 - 1 nonzeros.
Csr csr_from_dense(const float* w, int64_t rows, int64_t cols);
// out [rows, cols] is overwritten: zeros plus the stored entries.
void csr_to_dense(const Csr& a, float* out);
// Throws DataError naming `where` when an invariant above does not hold. Meant for matrices
// read from files: it reads nothing out of bounds, whatever the sizes claim. O(nnz).
void validate(const Csr& a, const std::string& where);

enum class Act { kNone, kRelu };  // kRelu: y > 0 ? y : 0 (NaN becomes 0, as kernels::relu)

// Both kernels require a valid matrix (validate() once after loading; per call only the O(1)
// shape checks run, throwing ShapeError), outputs that alias no input, and no allocation:
// they run inside the caller's OpenMP region single-threaded, else they fork only when
// nnz * n is large enough to pay for it. Each output is summed by one thread in a fixed
// order, so results do not depend on the thread count.
//
// batch 1: y[r] = act(bias[r] + sum_k A[r,k] * x[k]); bias may be nullptr.
void spmv(const Csr& a, const float* x, const float* bias, float* y, Act act);
// Y[r, j] = act(bias[r] + sum_k A[r,k] * X[k, j]) for j < n. X is [cols, n] with row stride
// ldx, Y is [rows, n] with row stride ldy (ld >= n); columns n..ld of Y are left untouched.
void spmm(const Csr& a, const float* X, int64_t ldx, int64_t n, const float* bias, float* Y,
          int64_t ldy, Act act);

// Reference twins (csr_ref.cpp): plain loops accumulating in double. For tests only.
void spmv_reference(const Csr& a, const float* x, const float* bias, float* y, Act act);
void spmm_reference(const Csr& a, const float* X, int64_t ldx, int64_t n, const float* bias,
                    float* Y, int64_t ldy, Act act);

// The instruction set the fast kernels dispatch to: "avx512", "avx2" or "scalar".
const char* kernel_isa();
// For tests: force "avx512", "avx2" or "scalar", or "" to restore the detected one. Throws
// ConfigError for an unknown name or one this CPU cannot run. Not thread-safe against
// concurrent spmv/spmm calls choosing a kernel.
void force_kernel_isa(const std::string& isa);

}  // namespace sculpt::sparse

// Element-wise kernels and reductions on flat float buffers (the activations are element
// functions of their layers, nn/layers/activations.h). Loops go parallel (OpenMP) only
// above kParallelThreshold elements. Reductions are deterministic for a fixed thread count
// (per-thread partials summed in thread order). Every kernel has a *_reference twin
// (elementwise_ref.cpp) written as the plainest possible loop, for tests.
//
// Legend: x input, y output, dy = dL/dy, dx = dL/dx; [n, f] is n rows of f features.
#pragma once

#include <cstdint>

namespace sculpt::kernels {

// y[i, j] = row[j] for every row i of y [n, f].
void fill_rows(float* y, const float* row, int64_t n, int64_t f);
// y[i, j] += row[j].
void add_rows(float* y, const float* row, int64_t n, int64_t f);
// db[j] += sum_i dy[i, j] (bias gradients).
void column_sums_add(const float* dy, int64_t n, int64_t f, float* db);
// A bias and a ReLU after a product (Linear's fused epilogue): y[i, j] = max(y[i, j] + row[j],
// 0), the bits of add_rows then ReLU.
void add_rows_relu(float* y, const float* row, int64_t n, int64_t f);
// Their gradient: dx[i, j] = y[i, j] > 0 ? dy[i, j] : 0 (y the ReLU's output), and db[j] +=
// sum_i dx[i, j], in one pass: the bits of ReLU's backward then column_sums_add.
void relu_backward_column_sums(const float* dy, const float* y, int64_t n, int64_t f, float* dx,
                               float* db);

// x[i] *= f.
void scale(float* x, int64_t size, float f);

// Reductions (accumulated in double).
double sum(const float* x, int64_t size);
float max_abs(const float* x, int64_t size);  // NaN if any element is NaN
bool all_finite(const float* x, int64_t size);

// Reference twins.
void fill_rows_reference(float* y, const float* row, int64_t n, int64_t f);
void add_rows_reference(float* y, const float* row, int64_t n, int64_t f);
void column_sums_add_reference(const float* dy, int64_t n, int64_t f, float* db);
void add_rows_relu_reference(float* y, const float* row, int64_t n, int64_t f);
void relu_backward_column_sums_reference(const float* dy, const float* y, int64_t n, int64_t f,
                                         float* dx, float* db);
void scale_reference(float* x, int64_t size, float f);
double sum_reference(const float* x, int64_t size);
float max_abs_reference(const float* x, int64_t size);
bool all_finite_reference(const float* x, int64_t size);

}  // namespace sculpt::kernels

// Transposes with an affine map fused in, for the inference runtime's layout changes: sample-
// major activations [n, f] to feature-major [f, n] (what the sparse kernels vectorise over) and
// back, and the input standardisation (x - mean) / std on the way in.
#pragma once

#include <cstdint>

namespace sculpt::kernels {

// y [cols, rows] = ((x - shift) * scale)^T for x [rows, cols], both dense row-major. y must not
// alias x. AVX-512 16x16 tiles at sculpt::isa() avx512 (chosen at each call); OpenMP over column
// tiles above kParallelThreshold elements.
void transpose_affine(const float* x, int64_t rows, int64_t cols, float shift, float scale,
                      float* y);

// The variant transpose_affine takes at sculpt::isa(): "avx512" (16x16 tiles) or "portable".
const char* transpose_isa();

// y[i] = (x[i] - shift) * scale. y may alias x.
void affine(const float* x, int64_t size, float shift, float scale, float* y);

// Reference twins (transpose_ref.cpp): the plainest loops, for tests.
void transpose_affine_reference(const float* x, int64_t rows, int64_t cols, float shift,
                                float scale, float* y);
void affine_reference(const float* x, int64_t size, float shift, float scale, float* y);

}  // namespace sculpt::kernels

// Fused affine + transpose: 16x16 tiles transposed in AVX-512 registers (four rounds of
// unpack/shuffle), the ragged edges by scalar loops, column tiles spread over threads.
#include "kernels/transpose.h"

#include <omp.h>

#include <algorithm>

#include "core/cpu.h"
#include "core/parallel.h"
#include "kernels/intrinsics.h"

namespace sculpt::kernels {

namespace {

constexpr int64_t kTile = 16;

void edge(const float* x, int64_t rows, int64_t cols, int64_t r0, int64_t r1, int64_t c0,
          int64_t c1, float shift, float scale, float* y) {
  for (int64_t r = r0; r < r1; ++r)
    for (int64_t c = c0; c < c1; ++c) y[c * rows + r] = (x[r * cols + c] - shift) * scale;
}

// Free functions rather than lambdas inside tile16: clang does not give a lambda its enclosing
// function's target attribute (the fuzz build compiles this file with clang).
__attribute__((target("avx512f"))) inline __m512 lo(__m512 a, __m512 b) {
  return _mm512_castpd_ps(_mm512_unpacklo_pd(_mm512_castps_pd(a), _mm512_castps_pd(b)));
}
__attribute__((target("avx512f"))) inline __m512 hi(__m512 a, __m512 b) {
  return _mm512_castpd_ps(_mm512_unpackhi_pd(_mm512_castps_pd(a), _mm512_castps_pd(b)));
}

__attribute__((target("avx512f"))) void tile16(const float* x, int64_t ldx, float* y, int64_t ldy,
                                               float shift, float scale) {
  const __m512 m = _mm512_set1_ps(shift), s = _mm512_set1_ps(scale);
  __m512 r[16], t[16];
  for (int i = 0; i < 16; ++i)
    r[i] = _mm512_mul_ps(_mm512_sub_ps(_mm512_loadu_ps(x + i * ldx), m), s);
  // Pairs of rows interleaved by element, then by pairs of elements, then 128-bit lanes twice.
  for (int i = 0; i < 16; i += 2) {
    t[i] = _mm512_unpacklo_ps(r[i], r[i + 1]);
    t[i + 1] = _mm512_unpackhi_ps(r[i], r[i + 1]);
  }
  for (int i = 0; i < 16; i += 4) {
    r[i] = lo(t[i], t[i + 2]);
    r[i + 1] = hi(t[i], t[i + 2]);
    r[i + 2] = lo(t[i + 1], t[i + 3]);
    r[i + 3] = hi(t[i + 1], t[i + 3]);
  }
  for (int i = 0; i < 4; ++i) {
    t[i] = _mm512_shuffle_f32x4(r[i], r[i + 4], 0x88);
    t[i + 4] = _mm512_shuffle_f32x4(r[i], r[i + 4], 0xdd);
    t[i + 8] = _mm512_shuffle_f32x4(r[i + 8], r[i + 12], 0x88);
    t[i + 12] = _mm512_shuffle_f32x4(r[i + 8], r[i + 12], 0xdd);
  }
  for (int i = 0; i < 4; ++i) {
    r[i] = _mm512_shuffle_f32x4(t[i], t[i + 8], 0x88);
    r[i + 8] = _mm512_shuffle_f32x4(t[i], t[i + 8], 0xdd);
    r[i + 4] = _mm512_shuffle_f32x4(t[i + 4], t[i + 12], 0x88);
    r[i + 12] = _mm512_shuffle_f32x4(t[i + 4], t[i + 12], 0xdd);
  }
  for (int i = 0; i < 16; ++i) _mm512_storeu_ps(y + i * ldy, r[i]);
}

// Columns [c0, c1) of the whole transpose (c0 a multiple of kTile).
void column_block(const float* x, int64_t rows, int64_t cols, int64_t c0, int64_t c1, float shift,
                  float scale, float* y, bool avx512) {
  const int64_t full_rows = rows / kTile * kTile;
  for (int64_t c = c0; c < c1; c += kTile) {
    if (!avx512 || c + kTile > cols) {
      edge(x, rows, cols, 0, rows, c, std::min(cols, c + kTile), shift, scale, y);
      continue;
    }
    for (int64_t r = 0; r < full_rows; r += kTile)
      tile16(x + r * cols + c, cols, y + c * rows + r, rows, shift, scale);
    edge(x, rows, cols, full_rows, rows, c, c + kTile, shift, scale, y);
  }
}

}  // namespace

void transpose_affine(const float* x, int64_t rows, int64_t cols, float shift, float scale,
                      float* y) {
  const bool avx512 = use_avx512();
  const int64_t tiles = (cols + kTile - 1) / kTile;
  if (rows * cols < kParallelThreshold || omp_in_parallel() || num_threads() == 1) {
    column_block(x, rows, cols, 0, tiles * kTile, shift, scale, y, avx512);
    return;
  }
#pragma omp parallel
  {
    const int64_t t = omp_get_thread_num(), nt = omp_get_num_threads();
    const int64_t b = tiles * t / nt, e = tiles * (t + 1) / nt;
    column_block(x, rows, cols, b * kTile, e * kTile, shift, scale, y, avx512);
  }
}

const char* transpose_isa() { return use_avx512() ? "avx512" : "portable"; }

void affine(const float* x, int64_t size, float shift, float scale, float* y) {
  // No parallel construct at all for small sizes: even a one-thread region costs a call into
  // the OpenMP runtime, which is a visible share of a batch-1 prediction.
  if (size < kParallelThreshold || omp_in_parallel()) {
    for (int64_t i = 0; i < size; ++i) y[i] = (x[i] - shift) * scale;
    return;
  }
#pragma omp parallel for simd schedule(static)
  for (int64_t i = 0; i < size; ++i) y[i] = (x[i] - shift) * scale;
}

}  // namespace sculpt::kernels

// Internal to src/sparse: the per-instruction-set kernels behind spmv/spmm. Each computes a
// rectangle of the output so that dispatch.cpp can split work across threads by rows or by
// column ranges; none allocates or checks arguments (the public entry points do).
#pragma once

#include <cstdint>

#include "sparse/csr.h"
#include "sparse/windowed.h"

// Function-level target attributes let one binary carry AVX-512 and AVX2 code and pick at run
// time, whatever -march the library was built with.
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#define SCULPT_SPARSE_X86 1
#else
#define SCULPT_SPARSE_X86 0
#endif

namespace sculpt::sparse::detail {

// y[r] for r in [r0, r1).
using SpmvFn = void (*)(const Csr& a, int64_t r0, int64_t r1, const float* x, const float* bias,
                        float* y, Act act);
// Y[r, j] for r in [r0, r1), j in [j0, j1). X and Y point at column 0.
using SpmmFn = void (*)(const Csr& a, int64_t r0, int64_t r1, int64_t j0, int64_t j1,
                        const float* X, int64_t ldx, const float* bias, float* Y, int64_t ldy,
                        Act act);

// y for the rows of groups [g0, g1) of a Windowed matrix; x readable over max(cols, 32).
using SpmvWindowedFn = void (*)(const Windowed& a, int64_t g0, int64_t g1, const float* x,
                                const float* bias, float* y, Act act);

void spmv_windowed_scalar(const Windowed& a, int64_t g0, int64_t g1, const float* x,
                          const float* bias, float* y, Act act);
void spmv_scalar(const Csr& a, int64_t r0, int64_t r1, const float* x, const float* bias, float* y,
                 Act act);
void spmm_scalar(const Csr& a, int64_t r0, int64_t r1, int64_t j0, int64_t j1, const float* X,
                 int64_t ldx, const float* bias, float* Y, int64_t ldy, Act act);
#if SCULPT_SPARSE_X86
void spmv_avx2(const Csr& a, int64_t r0, int64_t r1, const float* x, const float* bias, float* y,
               Act act);
void spmm_avx2(const Csr& a, int64_t r0, int64_t r1, int64_t j0, int64_t j1, const float* X,
               int64_t ldx, const float* bias, float* Y, int64_t ldy, Act act);
void spmv_windowed_avx512(const Windowed& a, int64_t g0, int64_t g1, const float* x,
                          const float* bias, float* y, Act act);
void spmv_avx512(const Csr& a, int64_t r0, int64_t r1, const float* x, const float* bias, float* y,
                 Act act);
void spmm_avx512(const Csr& a, int64_t r0, int64_t r1, int64_t j0, int64_t j1, const float* X,
                 int64_t ldx, const float* bias, float* Y, int64_t ldy, Act act);
#endif

}  // namespace sculpt::sparse::detail

// spmv/spmm entry points: argument checks, the run-time choice of instruction set, and the
// split of the output across OpenMP threads (by nonzeros, so uneven rows still balance).
#include <fmt/format.h>
#include <omp.h>

#include <algorithm>
#include <atomic>

#include "core/cpu.h"
#include "core/error.h"
#include "core/parallel.h"
#include "sparse/kernels.h"

namespace sculpt::sparse {

namespace {

// Work (multiply-adds) per extra thread. An OpenMP fork/join measured ~3 us on the 2-core
// development VM, about 12k spmv nonzeros or 600k spmm multiply-adds of AVX-512 work, so each
// thread must get several times that. On the 784-300-100-10 MLP at 95% sparsity every batch-1
// layer runs on one thread, and at batch 256 only the first layer forks.
constexpr int64_t kSpmvParallelWork = int64_t{1} << 16;
constexpr int64_t kSpmmParallelWork = int64_t{1} << 19;
// spmv threads start at multiples of this many rows (see kernels_avx512.cpp: chunks are shared
// between neighbouring rows only inside such groups, which keeps results thread-independent).
constexpr int64_t kSpmvRowGroup = 16;
// Windowed spmv forks only above this many slots per thread (a slot takes ~2 cycles; a
// batch-1 MLP layer has a few thousand).
constexpr int64_t kWindowedParallelSlots = int64_t{1} << 13;
// A row costs about this many nonzeros of work on top of its nonzeros (reduction, store).
constexpr int64_t kRowCost = 4;

// The x86 kernels are built only where SCULPT_SPARSE_X86 is set.
Isa detected() { return SCULPT_SPARSE_X86 ? detected_isa() : Isa::kScalar; }

std::atomic<int> g_forced{-1};  // -1: sculpt::isa() (SCULPT_ISA or the detected level)

Isa current() {
  const int f = g_forced.load(std::memory_order_relaxed);
  return f < 0 ? std::min(detected(), isa()) : static_cast<Isa>(f);
}

// The kernels for the instruction set in use.
struct Variants {
  detail::SpmvFn spmv;
  detail::SpmmFn spmm;
};
Variants variants() {
#if SCULPT_SPARSE_X86
  switch (current()) {
    case Isa::kAvx512:
      return {detail::spmv_avx512, detail::spmm_avx512};
    case Isa::kAvx2:
      return {detail::spmv_avx2, detail::spmm_avx2};
    case Isa::kScalar:
      break;
  }
#endif
  return {detail::spmv_scalar, detail::spmm_scalar};
}

void check_matrix(const Csr& a, const char* where) {
  SCULPT_CHECK(a.rows >= 0 && a.cols >= 0 && a.row_ptr.size() == static_cast<size_t>(a.rows) + 1,
               ShapeError,
               fmt::format("matrix [{}, {}] has {} row offsets", a.rows, a.cols, a.row_ptr.size()),
               where, "build it with csr_from_dense or check it with validate");
  const size_t idx = a.narrow() ? a.col16.size() : a.col32.size();
  SCULPT_CHECK(idx == a.values.size() && a.row_ptr.back() == a.values.size(), ShapeError,
               fmt::format("{} values, {} column indices, row_ptr ends at {}", a.values.size(), idx,
                           a.row_ptr.back()),
               where, "check the matrix with validate");
}

// First row of thread t's share when nt threads split rows by cost(r) = row_ptr[r] + kRowCost*r
// (the work before row r). Returns 0 for t = 0 and rows for t = nt.
int64_t row_split(const Csr& a, int64_t t, int64_t nt) {
  const auto cost = [&](int64_t r) {
    return int64_t{a.row_ptr[static_cast<size_t>(r)]} + kRowCost * r;
  };
  const int64_t target = cost(a.rows) * t / nt;
  int64_t lo = 0, hi = a.rows;  // answer in [lo, hi]
  while (lo < hi) {
    const int64_t mid = lo + (hi - lo) / 2;
    if (cost(mid) < target)
      lo = mid + 1;
    else
      hi = mid;
  }
  return lo;
}

// Threads worth using for `work` multiply-adds above `threshold`; 1 inside a parallel region.
int threads_for(int64_t work, int64_t threshold) {
  if (work < threshold || omp_in_parallel()) return 1;
  return static_cast<int>(std::min<int64_t>(num_threads(), std::max<int64_t>(1, work / threshold)));
}

}  // namespace

const char* kernel_isa() { return isa_name(current()).data(); }

void force_kernel_isa(const std::string& name) {
  if (name.empty()) {
    g_forced.store(-1);
    return;
  }
  const Isa want = parse_isa(name, "sparse::force_kernel_isa");
  // Ordered by capability, so a lower level always runs where a higher one was detected.
  SCULPT_CHECK(want <= detected(), ConfigError,
               fmt::format("the sparse kernels were built without the {} variant", name),
               "sparse::force_kernel_isa");
  g_forced.store(static_cast<int>(want));
}

void spmv(const Csr& a, const float* x, const float* bias, float* y, Act act) {
  check_matrix(a, "sparse::spmv");
  const detail::SpmvFn kernel = variants().spmv;
  const int nt = threads_for(a.nnz() + kRowCost * a.rows, kSpmvParallelWork);
  if (nt == 1) return kernel(a, 0, a.rows, x, bias, y, act);
  const auto group_start = [&](int64_t t, int64_t n) {
    return t == n ? a.rows : row_split(a, t, n) / kSpmvRowGroup * kSpmvRowGroup;
  };
#pragma omp parallel num_threads(nt)
  {
    const int64_t t = omp_get_thread_num(), n = omp_get_num_threads();
    const int64_t r0 = group_start(t, n), r1 = group_start(t + 1, n);
    if (r0 < r1) kernel(a, r0, r1, x, bias, y, act);
  }
}

bool windowed_is_fast() { return current() == Isa::kAvx512; }

void spmv(const Windowed& a, const float* x, const float* bias, float* y, Act act) {
  SCULPT_CHECK(a.rows >= 0 && a.group_slots.size() == static_cast<size_t>((a.rows + 15) / 16) + 1 &&
                   a.lane_col.size() == a.base.size() * 16 && a.values.size() == a.lane_col.size(),
               ShapeError, fmt::format("windowed matrix [{}, {}] is inconsistent", a.rows, a.cols),
               "sparse::spmv", "build it with windowed_from_csr");
  detail::SpmvWindowedFn kernel = detail::spmv_windowed_scalar;
#if SCULPT_SPARSE_X86
  if (current() == Isa::kAvx512) kernel = detail::spmv_windowed_avx512;
#endif
  // Windows reach 32 columns: a narrower x is copied into a zero-padded one.
  alignas(64) float padded[Windowed::kWindow] = {};
  if (a.cols < Windowed::kWindow) {
    std::copy(x, x + a.cols, padded);
    x = padded;
  }
  const int64_t groups = a.groups();
  const int nt = threads_for(a.slots(), kWindowedParallelSlots);
  if (nt == 1) return kernel(a, 0, groups, x, bias, y, act);
  // Groups split by slots, so threads get equal work.
  const auto first_group = [&](int64_t t, int64_t n) {
    const uint64_t target =
        static_cast<uint64_t>(a.slots()) * static_cast<uint64_t>(t) / static_cast<uint64_t>(n);
    return static_cast<int64_t>(
        std::lower_bound(a.group_slots.begin(), a.group_slots.end() - 1, target) -
        a.group_slots.begin());
  };
#pragma omp parallel num_threads(nt)
  {
    const int64_t t = omp_get_thread_num(), n = omp_get_num_threads();
    const int64_t g0 = t == 0 ? 0 : first_group(t, n),
                  g1 = t + 1 == n ? groups : first_group(t + 1, n);
    if (g0 < g1) kernel(a, g0, g1, x, bias, y, act);
  }
}

void spmm(const Csr& a, const float* X, int64_t ldx, int64_t n, const float* bias, float* Y,
          int64_t ldy, Act act) {
  check_matrix(a, "sparse::spmm");
  SCULPT_CHECK(n >= 0 && ldx >= n && ldy >= n, ShapeError,
               fmt::format("n = {}, ldx = {}, ldy = {}: need 0 <= n <= ld", n, ldx, ldy),
               "sparse::spmm");
  if (n == 0) return;
  // One contiguous column is a vector: the spmv kernel is several times faster than a
  // one-column panel.
  if (n == 1 && ldx == 1 && ldy == 1) return spmv(a, X, bias, Y, act);
  const detail::SpmmFn kernel = variants().spmm;
  const int nt = threads_for((a.nnz() + kRowCost * a.rows) * n, kSpmmParallelWork);
  if (nt == 1) return kernel(a, 0, a.rows, 0, n, X, ldx, bias, Y, ldy, act);
  // Few rows (a conv layer's output channels): split the columns instead, in whole 16-column
  // vectors so that only the last share has a masked tail.
  const bool by_columns = a.rows < 8 * nt;
#pragma omp parallel num_threads(nt)
  {
    const int64_t t = omp_get_thread_num(), k = omp_get_num_threads();
    if (by_columns) {
      const int64_t vecs = (n + 15) / 16;
      const int64_t j0 = std::min(n, vecs * t / k * 16), j1 = std::min(n, vecs * (t + 1) / k * 16);
      if (j0 < j1) kernel(a, 0, a.rows, j0, j1, X, ldx, bias, Y, ldy, act);
    } else {
      kernel(a, row_split(a, t, k), row_split(a, t + 1, k), 0, n, X, ldx, bias, Y, ldy, act);
    }
  }
}

}  // namespace sculpt::sparse

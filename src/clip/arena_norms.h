// The passes every clipper is made of: sums of squares (in double) and largest magnitudes over
// the gradient arena, and scaling. The arena is cut into blocks of at most kBlockFloats that
// never straddle two tensors; each block gets its own partial sums, and totals add the blocks
// in arena order. Which thread computes a block does not change its bits, so every result is
// the same for any thread count. Each thread takes the blocks that start in its 1/T share of
// the arena (by position, so shares are even), and scales the same blocks it measured.
#pragma once

#include <omp.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <span>
#include <utility>
#include <vector>

#include "core/parallel.h"
#include "core/param_store.h"

namespace sculpt::clip {

inline constexpr int64_t kBlockFloats = 4096;

// A range [begin, end) of the arena inside tensor `tensor`.
struct Block {
  int64_t begin = 0;
  int64_t end = 0;
  size_t tensor = 0;
};

struct BlockSums {
  double sumsq = 0.0;   // sum of g^2 in double
  float maxabs = 0.0f;  // max |g| (only when asked for)
};

// Sum of x^2 in double (and max |x| when kMax) over n floats, in a fixed order: 32 lane sums
// (independent chains, so the loop vectorises without -ffast-math), then the lanes in order.
template <bool kMax>
inline BlockSums sum_squares(const float* __restrict x, int64_t n) {
  constexpr int64_t kLanes = 32;
  double acc[kLanes] = {};
  float top[kLanes] = {};
  int64_t i = 0;
  for (; i + kLanes <= n; i += kLanes) {
    for (int64_t k = 0; k < kLanes; ++k) {
      const double v = x[i + k];
      acc[k] += v * v;
      if constexpr (kMax) {
        const float a = std::fabs(x[i + k]);
        top[k] = a > top[k] ? a : top[k];
      }
    }
  }
  for (int64_t k = 0; i + k < n; ++k) {
    const double v = x[i + k];
    acc[k] += v * v;
    if constexpr (kMax) top[k] = std::max(top[k], std::fabs(x[i + k]));
  }
  BlockSums out;
  for (int64_t k = 0; k < kLanes; ++k) {
    out.sumsq += acc[k];
    if constexpr (kMax) out.maxabs = std::max(out.maxabs, top[k]);
  }
  return out;
}

inline void scale_range(float* __restrict x, int64_t n, float f) {
#pragma omp simd
  for (int64_t i = 0; i < n; ++i) x[i] *= f;
}

// Items [lo, hi) of a list sorted by `begin` that thread t of nt takes: those that start in
// its share [t*n/nt, (t+1)*n/nt) of an arena of n floats.
template <class Item>
std::pair<size_t, size_t> thread_share(std::span<const Item> items, int64_t n, int t, int nt) {
  auto first_at = [&](int64_t pos) {
    return static_cast<size_t>(
        std::lower_bound(items.begin(), items.end(), pos,
                         [](const Item& it, int64_t p) { return it.begin < p; }) -
        items.begin());
  };
  const size_t lo = t == 0 ? 0 : first_at(n * t / nt);
  const size_t hi = t + 1 == nt ? items.size() : first_at(n * (t + 1) / nt);
  return {lo, hi};
}

// The blocks of one arena and their sums; reused from step to step (no allocation once sized).
class ArenaNorms {
 public:
  // Splits ps's tensors into blocks (cheap; called at every apply so the arena may change).
  void prepare(const ParamStore& ps);
  // Fills the sums of every block of `g` (the arena prepare() saw); max |g| too when asked.
  void measure(const float* g, bool with_max);
  // The training step's pass: g <- g * keep (keep: one 0/1 byte per float, or null for no
  // masks), then measure(g, false), block by block. A NaN or infinity anywhere in the blocks,
  // masked or not, makes the total non-finite (a float squared in double cannot overflow).
  void mask_and_measure(float* g, const uint8_t* keep);
  // Totals over all blocks, added in arena order.
  BlockSums total() const;
  // Per tensor (index = entry index), added in arena order; `out` is resized to `count`.
  void per_tensor(size_t count, std::vector<BlockSums>& out) const;
  // g <- f * g over every tensor (padding included: it stays zero).
  void scale_all(float* g, float f) const;
  // g <- f[t] * g over tensor t, skipping tensors whose factor is 1.
  void scale_tensors(float* g, const std::vector<float>& f) const;

  // measure, then decide(total) -> factor (on one thread), then scale_all when the factor is
  // not 1, in one parallel region. `decide` must not throw. Returns the factor.
  template <class Decide>
  float measure_and_scale(float* g, bool with_max, Decide&& decide);

  std::span<const Block> blocks() const { return blocks_; }
  std::span<const BlockSums> sums() const { return sums_; }
  int64_t arena_size() const { return arena_; }
  bool parallel() const { return arena_ > kParallelThreshold; }

 private:
  // The sums of blocks [lo, hi) of `g` (one thread's share).
  void measure_blocks(const float* g, bool with_max, size_t lo, size_t hi) {
    for (size_t b = lo; b < hi; ++b) {
      const int64_t n = blocks_[b].end - blocks_[b].begin;
      sums_[b] = with_max ? sum_squares<true>(g + blocks_[b].begin, n)
                          : sum_squares<false>(g + blocks_[b].begin, n);
    }
  }

  std::vector<Block> blocks_;
  std::vector<BlockSums> sums_;
  int64_t arena_ = 0;
};

template <class Decide>
float ArenaNorms::measure_and_scale(float* g, bool with_max, Decide&& decide) {
  float factor = 1.0f;
  const std::span<const Block> blocks = blocks_;
#pragma omp parallel if (parallel())
  {
    const auto [lo, hi] = thread_share(blocks, arena_, omp_get_thread_num(), omp_get_num_threads());
    measure_blocks(g, with_max, lo, hi);
#pragma omp barrier
#pragma omp single
    factor = decide(total());
    // The single's implicit barrier publishes `factor`. A thread's blocks are contiguous in
    // the arena, so it scales one range (the padding between its tensors included).
    if (factor != 1.0f && lo < hi)
      scale_range(g + blocks[lo].begin, blocks[hi - 1].end - blocks[lo].begin, factor);
  }
  return factor;
}

}  // namespace sculpt::clip

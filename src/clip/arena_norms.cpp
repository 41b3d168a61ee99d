// Blocks of the gradient arena and the parallel passes over them (see arena_norms.h).
#include "clip/arena_norms.h"

namespace sculpt::clip {

void ArenaNorms::prepare(const ParamStore& ps) {
  blocks_.clear();
  for (size_t t = 0; t < ps.count(); ++t) {
    const ParamEntry& e = ps.entry(t);
    for (int64_t lo = 0; lo < e.size; lo += kBlockFloats)
      blocks_.push_back({e.offset + lo, e.offset + std::min(e.size, lo + kBlockFloats), t});
  }
  sums_.resize(blocks_.size());
  arena_ = ps.arena_size();
}

void ArenaNorms::measure(const float* g, bool with_max) {
  const std::span<const Block> blocks = blocks_;
#pragma omp parallel if (parallel())
  {
    const auto [lo, hi] = thread_share(blocks, arena_, omp_get_thread_num(), omp_get_num_threads());
    measure_blocks(g, with_max, lo, hi);
  }
}

void ArenaNorms::mask_and_measure(float* g, const uint8_t* keep) {
  const std::span<const Block> blocks = blocks_;
#pragma omp parallel if (parallel())
  {
    const auto [lo, hi] = thread_share(blocks, arena_, omp_get_thread_num(), omp_get_num_threads());
    for (size_t b = lo; b < hi; ++b) {
      float* __restrict x = g + blocks[b].begin;
      const int64_t n = blocks[b].end - blocks[b].begin;
      if (keep) {
        const uint8_t* __restrict k = keep + blocks[b].begin;
#pragma omp simd
        for (int64_t i = 0; i < n; ++i) x[i] *= static_cast<float>(k[i]);
      }
      sums_[b] = sum_squares<false>(x, n);  // the block is still in L1
    }
  }
}

BlockSums ArenaNorms::total() const {
  BlockSums out;
  for (const BlockSums& s : sums_) {
    out.sumsq += s.sumsq;
    out.maxabs = std::max(out.maxabs, s.maxabs);
  }
  return out;
}

void ArenaNorms::per_tensor(size_t count, std::vector<BlockSums>& out) const {
  out.assign(count, BlockSums{});
  for (size_t b = 0; b < blocks_.size(); ++b) {
    BlockSums& t = out[blocks_[b].tensor];
    t.sumsq += sums_[b].sumsq;
    t.maxabs = std::max(t.maxabs, sums_[b].maxabs);
  }
}

void ArenaNorms::scale_all(float* g, float f) const {
  const std::span<const Block> blocks = blocks_;
#pragma omp parallel if (parallel())
  {
    const auto [lo, hi] = thread_share(blocks, arena_, omp_get_thread_num(), omp_get_num_threads());
    if (lo < hi) scale_range(g + blocks[lo].begin, blocks[hi - 1].end - blocks[lo].begin, f);
  }
}

void ArenaNorms::scale_tensors(float* g, const std::vector<float>& f) const {
  const std::span<const Block> blocks = blocks_;
#pragma omp parallel if (parallel())
  {
    const auto [lo, hi] = thread_share(blocks, arena_, omp_get_thread_num(), omp_get_num_threads());
    for (size_t b = lo; b < hi; ++b)
      if (f[blocks[b].tensor] != 1.0f)
        scale_range(g + blocks[b].begin, blocks[b].end - blocks[b].begin, f[blocks[b].tensor]);
  }
}

}  // namespace sculpt::clip

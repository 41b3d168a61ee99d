// Clipping by value: g <- clamp(g, -c, c), with the norms before and after in the same pass.
#include "clip/by_value.h"

#include <cmath>

namespace sculpt::clip {

const std::vector<Field<ValueConfig>>& ValueConfig::fields() {
  static const std::vector<Field<ValueConfig>> f = {
      {"max_value", &ValueConfig::max_value, greater_than(0),
       "c: every gradient element is clamped to [-c, c]"},
  };
  return f;
}

namespace {

// Clamps x[0, n) to [-c, c]; sums of squares before and after in double, in 16 fixed lanes.
void clamp_block(float* __restrict x, int64_t n, float c, double& before, double& after,
                 int64_t& changed) {
  constexpr int64_t kLanes = 16;
  double b[kLanes] = {}, a[kLanes] = {};
  int64_t m[kLanes] = {};
  auto one = [&](int64_t i, int64_t k) {
    const float v = x[i];
    const float y = v > c ? c : (v < -c ? -c : v);
    b[k] += double(v) * double(v);
    a[k] += double(y) * double(y);
    m[k] += y != v;
    x[i] = y;
  };
  int64_t i = 0;
  for (; i + kLanes <= n; i += kLanes)
    for (int64_t k = 0; k < kLanes; ++k) one(i + k, k);
  for (int64_t k = 0; i + k < n; ++k) one(i + k, k);
  for (int64_t k = 0; k < kLanes; ++k) {
    before += b[k];
    after += a[k];
    changed += m[k];
  }
}

}  // namespace

ClipReport ValueClipper::apply(ParamStore& ps) {
  norms_.prepare(ps);
  const std::span<const Block> blocks = norms_.blocks();
  sums_.assign(blocks.size(), Sums{});
  float* g = ps.grads().data();
  const float c = static_cast<float>(cfg_.max_value);
  const int64_t arena = norms_.arena_size();
  Sums* sums = sums_.data();
#pragma omp parallel if (norms_.parallel())
  {
    const auto [lo, hi] = thread_share(blocks, arena, omp_get_thread_num(), omp_get_num_threads());
    for (size_t k = lo; k < hi; ++k)
      clamp_block(g + blocks[k].begin, blocks[k].end - blocks[k].begin, c, sums[k].before,
                  sums[k].after, sums[k].changed);
  }
  Sums total;
  for (const Sums& s : sums_) {
    total.before += s.before;
    total.after += s.after;
    total.changed += s.changed;
  }
  ClipReport r{.norm_before = std::sqrt(total.before), .norm_after = std::sqrt(total.after)};
  r.clipped = total.changed;
  r.clipped_any = total.changed > 0;
  if (r.clipped_any && r.norm_before > 0) r.scale = r.norm_after / r.norm_before;
  return r;
}

}  // namespace sculpt::clip

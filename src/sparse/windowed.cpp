// Windowed construction from Csr, and the portable windowed spmv (the fallback and the twin the
// AVX-512 kernel is tested against: same order of operations, so the same bits).
#include "sparse/windowed.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include "sparse/kernels.h"

namespace sculpt::sparse {

namespace {

template <class Col>
void build_groups(const Csr& a, const Col* col, Windowed& w) {
  constexpr int64_t L = Windowed::kLanes, W = Windowed::kWindow;
  const int64_t last_base = std::max<int64_t>(a.cols - W, 0);
  uint32_t pos[L], end[L];
  for (int64_t r0 = 0; r0 < a.rows; r0 += L) {
    const int64_t n = std::min(L, a.rows - r0);
    for (int64_t i = 0; i < n; ++i) {
      pos[i] = a.row_ptr[static_cast<size_t>(r0 + i)];
      end[i] = a.row_ptr[static_cast<size_t>(r0 + i + 1)];
    }
    for (;;) {
      int64_t first = std::numeric_limits<int64_t>::max();
      for (int64_t i = 0; i < n; ++i)
        if (pos[i] < end[i]) first = std::min<int64_t>(first, col[pos[i]]);
      if (first == std::numeric_limits<int64_t>::max()) break;
      // first - base < 16 when rounded, and < 32 when clamped (first < cols = last_base + 32).
      const int64_t base = std::min(first / 16 * 16, last_base);
      w.base.push_back(static_cast<uint32_t>(base));
      for (int64_t i = 0; i < L; ++i) {
        const bool take = i < n && pos[i] < end[i] && col[pos[i]] < base + W;
        w.lane_col.push_back(take ? static_cast<uint8_t>(col[pos[i]] - base) : uint8_t{0});
        w.values.push_back(take ? a.values[pos[i]] : 0.0f);
        pos[i] += take;
      }
    }
    w.group_slots.push_back(static_cast<uint32_t>(w.base.size()));
  }
}

}  // namespace

Windowed windowed_from_csr(const Csr& a) {
  Windowed w;
  w.rows = a.rows;
  w.cols = a.cols;
  w.nnz = a.nnz();
  w.group_slots.push_back(0);
  if (a.narrow())
    build_groups(a, a.col16.data(), w);
  else
    build_groups(a, a.col32.data(), w);
  return w;
}

namespace detail {

void spmv_windowed_scalar(const Windowed& a, int64_t g0, int64_t g1, const float* x,
                          const float* bias, float* y, Act act) {
  constexpr int64_t L = Windowed::kLanes;
  for (int64_t g = g0; g < g1; ++g) {
    float part[4][L] = {};
    const uint32_t s0 = a.group_slots[static_cast<size_t>(g)];
    const uint32_t s1 = a.group_slots[static_cast<size_t>(g) + 1];
    for (uint32_t s = s0; s < s1; ++s) {
      const float* xw = x + a.base[s];
      const uint8_t* lc = a.lane_col.data() + size_t{s} * L;
      const float* v = a.values.data() + size_t{s} * L;
      float* acc = part[(s - s0) % 4];
      for (int64_t i = 0; i < L; ++i) {
        // As the masked permute: an unused lane (value exactly 0) contributes 0 * 0.
        const float xi = v[i] != 0.0f || std::isnan(v[i]) ? xw[lc[i]] : 0.0f;
        acc[i] = std::fma(xi, v[i], acc[i]);
      }
    }
    const int64_t r0 = g * L, n = std::min(L, a.rows - r0);
    for (int64_t i = 0; i < n; ++i) {
      float s = (part[0][i] + part[1][i]) + (part[2][i] + part[3][i]);
      if (bias) s += bias[r0 + i];
      y[r0 + i] = act == Act::kRelu ? (s > 0.0f ? s : 0.0f) : s;
    }
  }
}

}  // namespace detail

}  // namespace sculpt::sparse

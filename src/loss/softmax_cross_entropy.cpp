// Fused, numerically stable softmax cross-entropy (mean over the batch).
#include <fmt/format.h>

#include <cmath>

#include "core/error.h"
#include "loss/loss.h"
#include "loss/row_reduce.h"

namespace sculpt::loss {

double softmax_cross_entropy(const float* logits, const Targets& t, int64_t n, int64_t k,
                             float* dlogits) {
  SCULPT_CHECK(t.labels != nullptr, DataError, "cross-entropy needs class labels", "loss",
               "use mse for real-valued targets");
  SCULPT_CHECK(k >= 1, ShapeError, fmt::format("cross-entropy needs at least 1 logit, got {}", k));
  for (int64_t i = 0; i < n; ++i) {
    SCULPT_CHECK(t.labels[i] >= 0 && t.labels[i] < k, DataError,
                 fmt::format("label {} in batch row {} is outside [0, {})", t.labels[i], i, k), "",
                 "the model's outputs must cover every class in the data");
  }
  const float inv_n = 1.0f / static_cast<float>(n);
  const double total = sum_rows(n, k, [&](int64_t i) {
    const float* z = logits + i * k;
    float m = z[0];
    for (int64_t j = 1; j < k; ++j) m = std::max(m, z[j]);
    double s = 0.0;
    for (int64_t j = 0; j < k; ++j) s += std::exp(static_cast<double>(z[j]) - m);
    const double lse = m + std::log(s);
    const int32_t y = t.labels[i];
    if (dlogits) {
      float* d = dlogits + i * k;
      const double inv_s = 1.0 / s;
      for (int64_t j = 0; j < k; ++j)
        d[j] = static_cast<float>(std::exp(static_cast<double>(z[j]) - m) * inv_s) * inv_n;
      d[y] -= inv_n;
    }
    return lse - z[y];
  });
  return total / static_cast<double>(n);
}

}  // namespace sculpt::loss

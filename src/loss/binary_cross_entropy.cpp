// Binary cross-entropy with logits, stable for large |z| (mean over the batch).
#include <fmt/format.h>

#include <cmath>

#include "core/error.h"
#include "loss/loss.h"
#include "loss/row_reduce.h"

namespace sculpt::loss {

double binary_cross_entropy(const float* logits, const Targets& t, int64_t n, int64_t k,
                            float* dlogits) {
  SCULPT_CHECK(k == 1, ShapeError,
               fmt::format("bce expects 1 logit per sample but the model gives {}", k), "loss",
               "give the model 1 output, or use cross-entropy for several classes");
  SCULPT_CHECK(t.labels != nullptr, DataError, "bce needs 0/1 labels", "loss");
  for (int64_t i = 0; i < n; ++i) {
    SCULPT_CHECK(t.labels[i] == 0 || t.labels[i] == 1, DataError,
                 fmt::format("label {} in batch row {} is not 0 or 1", t.labels[i], i), "",
                 "bce is for two classes labelled 0 and 1");
  }
  const double inv_n = 1.0 / static_cast<double>(n);
  const double total = sum_rows(n, 1, [&](int64_t i) {
    const double z = logits[i], y = t.labels[i];
    const double e = std::exp(-std::fabs(z));
    if (dlogits) {
      const double sig = z >= 0 ? 1.0 / (1.0 + e) : e / (1.0 + e);
      dlogits[i] = static_cast<float>((sig - y) * inv_n);
    }
    return std::max(z, 0.0) - z * y + std::log1p(e);
  });
  return total * inv_n;
}

}  // namespace sculpt::loss

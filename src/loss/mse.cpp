// Mean squared error over all n*k entries (torch's reduction='mean').
#include <fmt/format.h>

#include "core/error.h"
#include "loss/loss.h"
#include "loss/row_reduce.h"

namespace sculpt::loss {

double mean_squared_error(const float* logits, const Targets& t, int64_t n, int64_t k,
                          float* dlogits) {
  SCULPT_CHECK(t.values != nullptr, DataError, "mse needs real-valued targets", "loss",
               "use cross-entropy or bce for class labels");
  const double inv = 1.0 / static_cast<double>(n * k);
  const float scale = static_cast<float>(2.0 * inv);
  const double total = sum_rows(n, k, [&](int64_t i) {
    double acc = 0.0;
    for (int64_t j = i * k; j < (i + 1) * k; ++j) {
      const float d = logits[j] - t.values[j];
      acc += static_cast<double>(d) * d;
      if (dlogits) dlogits[j] = scale * d;
    }
    return acc;
  });
  return total * inv;
}

}  // namespace sculpt::loss

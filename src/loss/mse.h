// Mean squared error against Targets::values [n, k], averaged over the batch AND the outputs
// (torch's reduction='mean'): loss = sum (z - t)^2 / (n k); d/dz = 2 (z - t) / (n k).
#pragma once

#include "loss/loss.h"

namespace sculpt::loss {

class MeanSquaredError : public Loss {
 public:
  std::string_view kind() const override { return "mse"; }
  double forward(const float* logits, const Targets& t, int64_t n, int64_t k,
                 float* dlogits) override;
};

}  // namespace sculpt::loss

// Binary cross-entropy with logits [n, 1] and 0/1 labels, in the stable form
// loss_i = max(z, 0) - z y + log1p(exp(-|z|)); d(mean)/dz = (sigmoid(z) - y) / n.
#pragma once

#include "loss/loss.h"

namespace sculpt::loss {

class BinaryCrossEntropy : public Loss {
 public:
  std::string_view kind() const override { return "bce"; }
  double forward(const float* logits, const Targets& t, int64_t n, int64_t k,
                 float* dlogits) override;
};

}  // namespace sculpt::loss

// Softmax cross-entropy on logits [n, k] with class labels: loss_i = logsumexp(z_i) - z_i[y_i],
// computed with the max shift; d(mean)/dz = (softmax(z) - onehot(y)) / n.
#pragma once

#include "loss/loss.h"

namespace sculpt::loss {

class SoftmaxCrossEntropy : public Loss {
 public:
  std::string_view kind() const override { return "cross-entropy"; }
  double forward(const float* logits, const Targets& t, int64_t n, int64_t k,
                 float* dlogits) override;
};

}  // namespace sculpt::loss

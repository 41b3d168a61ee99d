// Loss: the mean over the batch of a per-sample loss on logits [n, k], fused with its gradient.
// Gradients are of the MEAN loss: dlogits already carries the 1/n factor.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <utility>

namespace sculpt::loss {

// Targets for a batch: class indices (classification; binary uses 0/1 labels) or real values
// [n, k] (regression). Which one a loss reads is part of its contract.
struct Targets {
  const int32_t* labels = nullptr;
  const float* values = nullptr;
};

// Returns the mean loss; when dlogits is non-null writes d(mean loss)/d(logits) there.
// Throws DataError if a label is outside [0, k), ShapeError for a width the loss cannot take.
using LossFn = double(const float* logits, const Targets& t, int64_t n, int64_t k, float* dlogits);

// The losses (one .cpp each; the registry names them):
// softmax cross-entropy on logits [n, k] with class labels: loss_i = logsumexp(z_i) - z_i[y_i],
// computed with the max shift; d(mean)/dz = (softmax(z) - onehot(y)) / n.
LossFn softmax_cross_entropy;
// binary cross-entropy with logits [n, 1] and 0/1 labels, in the stable form
// loss_i = max(z, 0) - z y + log1p(exp(-|z|)); d(mean)/dz = (sigmoid(z) - y) / n.
LossFn binary_cross_entropy;
// mean squared error against Targets::values [n, k], averaged over the batch AND the outputs
// (torch's reduction='mean'): loss = sum (z - t)^2 / (n k); d/dz = 2 (z - t) / (n k).
LossFn mean_squared_error;

// A loss as the trainer holds it: the registry's name and function. Losses keep no state.
class Loss {
 public:
  Loss(std::string kind, LossFn* fn) : kind_(std::move(kind)), fn_(fn) {}
  std::string_view kind() const { return kind_; }
  double forward(const float* logits, const Targets& t, int64_t n, int64_t k,
                 float* dlogits) const {
    return fn_(logits, t, n, k, dlogits);
  }

 private:
  std::string kind_;
  LossFn* fn_;
};

}  // namespace sculpt::loss

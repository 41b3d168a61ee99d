// Loss: the mean over the batch of a per-sample loss on logits [n, k], fused with its gradient.
// Gradients are of the MEAN loss: dlogits already carries the 1/n factor.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

namespace sculpt::loss {

// Targets for a batch: class indices (classification; binary uses 0/1 labels) or real values
// [n, k] (regression). Which one a loss reads is part of its contract.
struct Targets {
  const int32_t* labels = nullptr;
  const float* values = nullptr;
};

class Loss {
 public:
  virtual ~Loss() = default;
  virtual std::string_view kind() const = 0;
  // Returns the mean loss; when dlogits is non-null writes d(mean loss)/d(logits) there.
  // Throws DataError if a label is outside [0, k).
  virtual double forward(const float* logits, const Targets& t, int64_t n, int64_t k,
                         float* dlogits) = 0;
};

}  // namespace sculpt::loss

// The loss table: one row per loss.
#include "loss/registry.h"

#include "core/error.h"
#include "core/registry.h"

namespace sculpt::loss {

namespace {

const Registry<LossInfo>& registry() {
  static const Registry<LossInfo> r(
      "train.loss",
      {
          {"cross-entropy", "softmax cross-entropy on k logits with class labels in [0, k)",
           TargetKind::kClassIndex, softmax_cross_entropy},
          {"bce", "binary cross-entropy with logits (1 output, labels 0/1)",
           TargetKind::kBinaryLabel, binary_cross_entropy},
          {"mse", "mean squared error over batch and outputs (regression targets)",
           TargetKind::kValues, mean_squared_error},
      });
  return r;
}

}  // namespace

const std::vector<LossInfo>& loss_registry() { return registry().rows(); }

const LossInfo& loss_info(const std::string& name) { return registry().find(name); }

std::unique_ptr<Loss> make_loss(const std::string& name) {
  const LossInfo& info = loss_info(name);
  return std::make_unique<Loss>(info.name, info.forward);
}

}  // namespace sculpt::loss

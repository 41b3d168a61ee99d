// The loss table: one row per loss.
#include "loss/registry.h"

#include <fmt/format.h>

#include "core/error.h"
#include "core/suggest.h"
#include "loss/binary_cross_entropy.h"
#include "loss/mse.h"
#include "loss/softmax_cross_entropy.h"

namespace sculpt::loss {

const std::vector<LossInfo>& loss_registry() {
  static const std::vector<LossInfo> table = {
      {"cross-entropy", "softmax cross-entropy on k logits with class labels in [0, k)",
       TargetKind::kClassIndex, [] { return std::make_unique<SoftmaxCrossEntropy>(); }},
      {"bce", "binary cross-entropy with logits (1 output, labels 0/1)", TargetKind::kBinaryLabel,
       [] { return std::make_unique<BinaryCrossEntropy>(); }},
      {"mse", "mean squared error over batch and outputs (regression targets)",
       TargetKind::kValues, [] { return std::make_unique<MeanSquaredError>(); }},
  };
  return table;
}

const LossInfo& loss_info(const std::string& name) {
  std::vector<std::string> names;
  for (const auto& info : loss_registry()) {
    if (info.name == name) return info;
    names.push_back(info.name);
  }
  const std::string hint = did_you_mean(name, names);
  throw ConfigError(fmt::format("unknown loss '{}'", name), "",
                    hint.empty() ? fmt::format("known losses: {}", fmt::join(names, ", ")) : hint);
}

std::unique_ptr<Loss> make_loss(const std::string& name) { return loss_info(name).make(); }

}  // namespace sculpt::loss

// The loss registry: one explicit table row per loss (name, doc, what targets it reads).
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "loss/loss.h"

namespace sculpt::loss {

enum class TargetKind {
  kClassIndex,   // Targets::labels in [0, k)
  kBinaryLabel,  // Targets::labels in {0, 1}, k == 1
  kValues,       // Targets::values [n, k]
};

struct LossInfo {
  std::string name;
  std::string doc;
  TargetKind targets = TargetKind::kClassIndex;
  LossFn* forward = nullptr;
};

const std::vector<LossInfo>& loss_registry();
// Throws ConfigError for an unknown name, with a "did you mean" hint.
std::unique_ptr<Loss> make_loss(const std::string& name);
const LossInfo& loss_info(const std::string& name);

}  // namespace sculpt::loss

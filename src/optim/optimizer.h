// Optimizer: updates the parameter arena from its gradients. State is a set of named arrays
// parallel to the arena (checkpointed as "opt.<state>.<param>"); the step counter lives in the
// trainer and is passed in, so no optimizer keeps its own count.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/param_store.h"
#include "core/tensor.h"

namespace sculpt {
struct OptimConfig;
}

namespace sculpt::optim {

// One state array parallel to the arena, e.g. {"momentum", buffer}.
struct StateArray {
  std::string name;
  AlignedVector<float>* data;
};

class Optimizer {
 public:
  virtual ~Optimizer() = default;
  virtual std::string_view kind() const = 0;
  // Sizes state for the arena. Requires: ps finalized. Resets state to its initial value.
  virtual void init(const ParamStore& ps) = 0;
  // One update of every parameter from ps.grads(). `step` counts updates from 0.
  virtual void step(ParamStore& ps, double lr, int64_t step) = 0;
  // The state arrays, for checkpoints (same length as the arena).
  virtual std::vector<StateArray> state() = 0;
};

// Builds the optimizer named by cfg.name. Throws ConfigError for unknown names.
std::unique_ptr<Optimizer> make_optimizer(const OptimConfig& cfg);
std::vector<std::string> optimizer_names();

}  // namespace sculpt::optim

// A public gradient checker (as dlib's): compares a layer's analytic gradients (dx and every
// parameter gradient) with central finite differences of loss = sum(y * r), r fixed random,
// the loss summed in double. Inputs are drawn as distinct values away from 0 so that ReLU
// kinks and max-pool ties are not crossed by the perturbation.
#pragma once

#include <cstdint>
#include <string>

#include "core/shape.h"
#include "nn/layer.h"

namespace sculpt::nn {

struct GradCheckOptions {
  double atol = 2e-4;  // entry passes when |analytic - numeric| <= atol + rtol * max(|a|, |n|)
  double rtol = 5e-3;
  int64_t max_checks_per_tensor = 64;  // entries checked per tensor (random subset if larger)
  Mode mode = Mode::kTrain;            // kTrain exercises dropout's mask (fixed key)
};

struct GradCheckResult {
  bool ok = true;
  int64_t checked = 0;         // entries compared
  double worst_ratio = 0;      // max of |a - n| / (atol + rtol * max(|a|, |n|)); ok iff <= 1
  std::string worst_where;     // "dx[12]" or "fc1.weight[3]"
  double worst_analytic = 0, worst_numeric = 0;
  double atol = 0, rtol = 0;
  std::string summary() const;  // one line for test failure messages
};

// Requires a fresh (unbound) layer: binds it to `in`, declares its parameters into a private
// ParamStore, initialises them from `seed`, reserves n and runs the check on a batch of n.
GradCheckResult check_layer_gradients(Layer& layer, const Shape& in, int64_t n, uint64_t seed,
                                      const GradCheckOptions& options = {});

}  // namespace sculpt::nn

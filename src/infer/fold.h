// BatchNorm folded into the convolution or linear layer before it, for inference: with
// s = gamma / sqrt(running_var + eps) per output channel o,
//   W'[o, ...] = s_o W[o, ...]          b'_o = s_o (b_o - running_mean_o) + beta_o
// which computes, in evaluation, what the pair computes (up to rounding: in double, then
// float). The BatchNorm layer and its four tensors leave the model; zero (pruned) weights stay
// zero, so sparsity survives. A BatchNorm after anything else is kept and runs as it is.
#pragma once

#include <string>
#include <vector>

#include "infer/export_format.h"

namespace sculpt::infer {

// Folds every foldable BatchNorm of `m` in place; returns the names of those folded.
std::vector<std::string> fold_batch_norms(ExportModel& m);

}  // namespace sculpt::infer

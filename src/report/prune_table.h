// The per-layer pruning table printed after training with [prune] and after `sculpt prune`:
//
//   layer   kind     params  kept   sparsity  units     FLOPs kept
//   fc1     linear   235500  9875   95.8%     300/300   4.2%
//   total            266610  13331  95.0%               5.0%
#pragma once

#include <string>
#include <vector>

#include "prune/select.h"
#include "prune/structure.h"

namespace sculpt::report {

std::string format_prune_table(const std::vector<prune::PrunableLayer>& layers,
                               const std::vector<prune::LayerStats>& stats);

}  // namespace sculpt::report

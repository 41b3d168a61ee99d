// From scores to a mask: granularity (unstructured, N:M, whole units), scope (one global
// ranking or each layer alone), exclusions, and the target (a sparsity by ranking, or a score
// threshold). Entries already pruned stay pruned and count toward the target, so repeated calls
// with a growing target (gradual and iterative pruning) only ever add to the mask. Ties are
// broken by arena position (lower index pruned first), so a selection is deterministic.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "core/masks.h"
#include "core/param_store.h"
#include "prune/config.h"
#include "prune/structure.h"

namespace sculpt::prune {

// Which entries a configuration may prune: per prunable layer, whether its weight (and bias)
// take part; for neuron/channel granularity only layers of removable groups do, and a group
// only when all its producers do. Throws ConfigError for an excluded or per-layer name that is
// not a layer (the message lists the valid ones) and for N:M with an m that does not divide a
// layer's fan-in.
struct Candidates {
  std::vector<bool> weight;  // per layer
  std::vector<bool> bias;    // per layer (unstructured with biases = true)
};
Candidates candidates(const Structure& s, const ParamStore& ps, const PruneConfig& cfg);

// Prunes by `cfg` to `sparsity` (of the candidate weights; for neuron/channel granularity, of
// the candidate units; ignored for N:M, whose sparsity is 1 - n/m, and when cfg.threshold >= 0).
// `scores` is arena-sized (see Criterion::score). A unit of a channel group scores over the rows
// of all its producers, and removing it masks those rows, their bias entries, the group's
// BatchNorm scale and shift entries and its readers' columns. Zeroes the newly pruned weights
// in ps. Requires: masks initialised for ps.
void select(const Structure& s, ParamStore& ps, std::span<const float> scores,
            const PruneConfig& cfg, double sparsity, Masks& masks);

// Per-layer counts after pruning, for reports: weights (and bias entries) kept, units whose
// weights are all pruned, and multiply-adds per sample kept (kept weights * out_spatial).
struct LayerStats {
  std::string name;
  int64_t params = 0, kept = 0;       // weight + bias entries
  int64_t units = 0, dead_units = 0;  // units whose weight rows are entirely pruned
  int64_t flops = 0, flops_kept = 0;  // multiply-adds per sample
  double sparsity() const { return params ? 1.0 - double(kept) / double(params) : 0.0; }
};
std::vector<LayerStats> layer_stats(const std::vector<PrunableLayer>& layers, const ParamStore& ps,
                                    const Masks& masks);
// Fraction of all weight entries of the prunable layers that are pruned (biases excluded).
double weight_sparsity(const std::vector<PrunableLayer>& layers, const ParamStore& ps,
                       const Masks& masks);

}  // namespace sculpt::prune

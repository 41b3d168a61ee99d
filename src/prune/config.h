// [prune]: what to prune (criterion, granularity, scope, excluded layers), how much (a target
// sparsity or a score threshold) and, for pruning during training, when (the gradual ramp of
// Zhu & Gupta 2017, one shot at the end, or SNIP at initialisation). The same struct drives the
// recipe table and `sculpt prune`'s options; fields() documents every key.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "core/fields.h"

namespace sculpt::prune {

struct PruneConfig {
  // During training: none | gradual (cubic ramp from `start` to `end`) | snip (once, at step
  // 0, from one batch) | at-end (one shot after the last epoch, no fine-tuning).
  std::string when = "none";
  std::string criterion = "magnitude";  // see criterion.h / `sculpt list criteria`
  // unstructured | n:m (keep n of every m consecutive inputs) | neuron (rows of a Linear, with
  // the next layer's input columns) | channel (filters of a Conv2d; neuron for Linear layers).
  std::string granularity = "unstructured";
  int64_t n = 2, m = 4;
  std::string group_norm = "l1";  // neuron/channel: score of a unit = l1 or l2 of its entries' scores
  std::string scope = "global";   // global (one ranking across layers) | layer (each layer alone)
  double sparsity = 0.9;          // target fraction of the prunable weights
  double threshold = -1.0;        // >= 0: prune entries whose score is <= threshold instead
  std::string exclude;            // comma-separated layer names never pruned ("fc3")
  std::string layers;             // scope = layer: per-layer sparsities, "fc1=0.97,fc2=0.9"
  bool biases = false;            // also prune biases (unstructured only)
  // gradual: the ramp s_t = s_f + (s_i - s_f) * ramp((t - t0) / (n * dt)), updated every `every`
  // steps from `start` to `end` (0: two thirds of the run), counted in epochs, or with
  // unit = "run" as fractions of the whole run (so the ramp scales with train.epochs).
  double initial_sparsity = 0.0;
  std::string unit = "epoch";  // epoch | run
  double start = 0.0;
  double end = 0.0;
  int64_t every = 50;
  std::string ramp = "cubic";  // cubic (Zhu & Gupta) | linear | cosine | exponential
  int64_t batches = 8;         // gradient/taylor/snip: batches the scores are accumulated over
  int64_t rewind_step = -1;    // >= 0: keep the weights of this step (lottery-ticket rewinding)
  uint64_t seed = 0;           // random criterion (0: train.seed)

  static const std::vector<Field<PruneConfig>>& fields();
};

// Structured granularities remove whole units.
inline bool structured(const PruneConfig& c) {
  return c.granularity == "neuron" || c.granularity == "channel";
}

// Checks the combinations fields() cannot (n < m, thresholds with structured pruning, ...).
// Throws ConfigError naming `table`.key.
void validate(const PruneConfig& c, const std::string& table = "prune");

// "fc1=0.97,fc2=0.9" -> {fc1: 0.97, fc2: 0.9}; ConfigError for a malformed entry or a
// sparsity outside [0, 1).
std::map<std::string, double> parse_layer_table(const std::string& text, const std::string& key);
// "fc3, conv1" -> {fc3, conv1}
std::vector<std::string> split_names(const std::string& text);

}  // namespace sculpt::prune

// [prune]: what to prune (criterion, granularity, scope, excluded layers), how much (a target
// sparsity or a score threshold) and, for pruning during training, when (the gradual ramp of
// Zhu & Gupta 2017, one shot at the end, or SNIP at initialisation). The same struct drives the
// recipe table and `sculpt prune`'s options; fields() documents every key.
#pragma once

#include <cstdint>
#include <map>
#include <span>
#include <string>
#include <vector>

#include "core/fields.h"

namespace sculpt::prune {

// The choice fields of [prune], each with its texts (core/fields.h: Choice).
enum class When { kNone, kGradual, kSnip, kAtEnd };
inline constexpr Choice<When> kWhens[] = {{When::kNone, "none"},
                                          {When::kGradual, "gradual"},
                                          {When::kSnip, "snip"},
                                          {When::kAtEnd, "at-end"}};
constexpr std::span<const Choice<When>> choices_of(When) { return kWhens; }

enum class Granularity { kUnstructured, kNM, kNeuron, kChannel };
inline constexpr Choice<Granularity> kGranularities[] = {
    {Granularity::kUnstructured, "unstructured"},
    {Granularity::kNM, "n:m"},
    {Granularity::kNeuron, "neuron"},
    {Granularity::kChannel, "channel"}};
constexpr std::span<const Choice<Granularity>> choices_of(Granularity) { return kGranularities; }

enum class GroupNorm { kL1, kL2 };
inline constexpr Choice<GroupNorm> kGroupNorms[] = {{GroupNorm::kL1, "l1"}, {GroupNorm::kL2, "l2"}};
constexpr std::span<const Choice<GroupNorm>> choices_of(GroupNorm) { return kGroupNorms; }

enum class Scope { kGlobal, kLayer };
inline constexpr Choice<Scope> kScopes[] = {{Scope::kGlobal, "global"}, {Scope::kLayer, "layer"}};
constexpr std::span<const Choice<Scope>> choices_of(Scope) { return kScopes; }

enum class RampUnit { kEpoch, kRun };
inline constexpr Choice<RampUnit> kRampUnits[] = {{RampUnit::kEpoch, "epoch"},
                                                  {RampUnit::kRun, "run"}};
constexpr std::span<const Choice<RampUnit>> choices_of(RampUnit) { return kRampUnits; }

enum class Ramp { kCubic, kLinear, kCosine, kExponential };
inline constexpr Choice<Ramp> kRamps[] = {{Ramp::kCubic, "cubic"},
                                          {Ramp::kLinear, "linear"},
                                          {Ramp::kCosine, "cosine"},
                                          {Ramp::kExponential, "exponential"}};
constexpr std::span<const Choice<Ramp>> choices_of(Ramp) { return kRamps; }

struct PruneConfig {
  // During training: none | gradual (cubic ramp from `start` to `end`) | snip (once, at step
  // 0, from one batch) | at-end (one shot after the last epoch, no fine-tuning).
  When when = When::kNone;
  std::string criterion = "magnitude";  // see criterion.h / `sculpt list criteria`
  // unstructured | n:m (keep n of every m consecutive inputs) | neuron (rows of a Linear, with
  // the next layer's input columns) | channel (filters of a Conv2d; neuron for Linear layers).
  Granularity granularity = Granularity::kUnstructured;
  int64_t n = 2, m = 4;
  GroupNorm group_norm =
      GroupNorm::kL1;  // neuron/channel: score of a unit = l1 or l2 of its entries' scores
  Scope scope = Scope::kGlobal;  // global (one ranking across layers) | layer (each layer alone)
  double sparsity = 0.9;         // target fraction of the prunable weights
  double threshold = -1.0;       // >= 0: prune entries whose score is <= threshold instead
  std::string exclude;           // comma-separated layer names never pruned ("fc3")
  std::string layers;            // scope = layer: per-layer sparsities, "fc1=0.97,fc2=0.9"
  bool biases = false;           // also prune biases (unstructured only)
  // gradual: the ramp s_t = s_f + (s_i - s_f) * ramp((t - t0) / (n * dt)), updated every `every`
  // steps from `start` to `end` (0: two thirds of the run), counted in epochs, or with
  // unit = "run" as fractions of the whole run (so the ramp scales with train.epochs).
  double initial_sparsity = 0.0;
  RampUnit unit = RampUnit::kEpoch;  // epoch | run
  double start = 0.0;
  double end = 0.0;
  int64_t every = 50;
  Ramp ramp = Ramp::kCubic;  // cubic (Zhu & Gupta) | linear | cosine | exponential
  int64_t batches = 8;       // gradient/taylor/snip: batches the scores are accumulated over
  int64_t rewind_step = -1;  // >= 0: keep the weights of this step (lottery-ticket rewinding)
  uint64_t seed = 0;         // random criterion (0: train.seed)

  static const std::vector<Field<PruneConfig>>& fields();
};

// Structured granularities remove whole units.
inline bool structured(const PruneConfig& c) {
  return c.granularity == Granularity::kNeuron || c.granularity == Granularity::kChannel;
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

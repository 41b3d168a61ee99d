// Carving datasets (validation/test splits, first-N limits) and feature standardisation.
// Normalisation is fitted on the training part only and then applied to every part.
#pragma once

#include <cstdint>
#include <span>
#include <utility>

#include "core/rng.h"
#include "data/dataset.h"

namespace sculpt::data {

// The samples at `indices` (in that order), with the same task, shape and classes.
Dataset subset(const Dataset& ds, std::span<const int64_t> indices, const std::string& name);

// Returns (rest, carved): carved holds round(fraction * N) samples chosen at random by `rng`,
// rest the others. Both keep the original relative order of their samples (the Batcher
// shuffles later). Requires fraction in [0, 1) (ConfigError); fraction 0 gives an empty carved.
std::pair<Dataset, Dataset> split_off(const Dataset& ds, double fraction, Rng& rng);

// The first min(n, N) samples. Requires n >= 0 (ConfigError).
Dataset take_first(const Dataset& ds, int64_t n);

// Global scalar standardisation: x' = (x - mean) / std over every feature of every sample.
struct Normalizer {
  float mean = 0.0f;
  float std = 1.0f;
};

// Mean and population std over all features of `train`, accumulated in double. A constant (or
// empty) dataset gets std = 1 so that apply() never divides by zero.
Normalizer fit_standard(const Dataset& train);
// In place on ds.x; targets are left alone.
void apply(const Normalizer& norm, Dataset& ds);

}  // namespace sculpt::data

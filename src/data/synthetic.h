// Synthetic datasets for quick runs and tests: a noisy linear regression with known weights and
// two Gaussian blobs for binary classification. Both are deterministic in the rng.
#pragma once

#include <cstdint>
#include <vector>

#include "core/rng.h"
#include "data/dataset.h"

namespace sculpt::data {

// x ~ N(0, 1) [samples, features]; w ~ U(-2, 2), b ~ U(-1, 1);
// y = x.w + b + noise * N(0, 1), as a regression Dataset with y [samples, 1].
// The true w and b are written to `true_w` / `true_b` when those are non-null.
// Requires samples >= 1, features >= 1, noise >= 0 (ConfigError naming data.<field>).
Dataset make_linear_regression(int64_t samples, int64_t features, double noise, Rng& rng,
                               std::vector<float>* true_w = nullptr, float* true_b = nullptr);

// Two unit-sigma Gaussian classes whose centres are `separation` apart along a random
// direction (centres at -/+ separation/2 times a unit vector). Label of sample i is i % 2, so
// the classes are balanced (counts differ by at most one). Binary task.
// Requires samples >= 2, features >= 1, separation >= 0.
Dataset make_blobs(int64_t samples, int64_t features, double separation, Rng& rng);

}  // namespace sculpt::data

// The learning-rate range test (L. Smith, "Cyclical Learning Rates for Training Neural
// Networks", 2017; the fast.ai lr_find): train with a rate growing exponentially from `start` to
// `end`, watch the loss, suggest a rate, then put the trainer back as it was.
//
//   lr_i     = start * (end / start)^(i / (steps - 1))           i = 0 .. steps - 1
//   avg_i    = smooth * avg_{i-1} + (1 - smooth) * loss_i         avg_{-1} = 0
//   smoothed = avg_i / (1 - smooth^(i + 1))                       (bias-corrected EMA)
//
// The sweep stops early when smoothed > diverge * (best smoothed so far) or a loss or gradient
// is not finite.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "train/trainer.h"

namespace sculpt::train {

struct LrFindConfig {
  double start = 1e-7;   // first rate, > 0
  double end = 10.0;     // last rate, > start
  int64_t steps = 200;   // >= 10
  double smooth = 0.98;  // EMA coefficient in [0, 1)
  double diverge = 4.0;  // stop when the smoothed loss exceeds this many times its best, > 1
};

// Throws ConfigError naming the CLI option ("--start", "--end", ...) of the first bad value.
void check_lr_find_config(const LrFindConfig& c);

struct LrFindResult {
  // One entry per step run: the rate, the raw batch loss (mean over the batch) and the smoothed
  // loss. A step whose loss was not finite ends the sweep and is not recorded.
  std::vector<double> lr, loss, smoothed;
  // The suggestions (NaN when there is none; see lr_find below for the rules):
  double suggested_steepest = 0.0;  // steepest descent of smoothed vs log10(lr)
  double suggested_min10 = 0.0;     // the rate at the minimum smoothed loss, / 10
  double suggested = 0.0;           // the one to use
  double min_loss_lr = 0.0;         // the rate at the minimum smoothed loss
  int64_t steps_run = 0;
  bool diverged = false;  // stopped early (smoothed loss blew up, or non-finite)
  std::string note;       // why the suggestion is weak or missing; empty when all is well
};

// Runs the range test on `t` and restores it: afterwards the weights, the optimizer state, the
// step counter and the data stream are bit-identical to before (also when a step throws).
// Requires a trainer between epochs (as built, or after train_epoch). The sweep continues from
// the trainer's state and step; batches wrap to new epochs as needed.
//
// Suggestions, on the smoothed curve of n points with its minimum at m:
//   steepest  the rate at the most negative centred difference d(smoothed)/d(log10 lr), taken
//             over +-k = n/20 points (adjacent points differ mostly by batch noise) and searched
//             over points [max(n/10, k), min(m, n-1-k)] (the first tenth is warm-up noise)
//   min10     lr[m] / 10
//   suggested the geometric mean sqrt(steepest * min10) when steepest < min10: the steepest
//             point alone tends to sit where the loss has only begun to fall (often a decade
//             too timid), min10 alone at the edge of what still trains; between them is a rate
//             both heuristics agree is safe. When steepest >= min10 (a sharp drop late in the
//             sweep), min10: never closer than a decade to the minimum-loss rate. Without a
//             steepest point, min10.
// The smoothed curve lags the raw loss (smooth = 0.98 averages ~50 steps), so lr[m] sits near
// the divergence: min10 is about a decade below where training blows up.
// When the smoothed minimum is not below the mean of the first max(10, n/10) raw losses by more
// than max(5%, 4 standard errors of that mean), the sweep found no rate that trains: every
// suggestion is NaN and `note` says so. `note` also warns when the minimum is at the end of an
// undiverged sweep (try a larger end) or in its first tenth (start too large).
LrFindResult lr_find(Trainer& t, const LrFindConfig& c);

}  // namespace sculpt::train

// The learning-rate range test: an exponential sweep through the normal train_step, then the
// suggestions from the smoothed loss curve (formulas and rules in lr_find.h).
#include "train/lr_find.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <memory>
#include <optional>
#include <utility>

#include "core/error.h"
#include "sched/curves.h"

namespace sculpt::train {

namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

// lr(s0 + i) = start * gamma^i: the exponential family in steps, shifted to the trainer's step
// s0 (a constant phase before it is never used).
sched::Schedule sweep_schedule(const LrFindConfig& c, int64_t s0, int64_t steps_per_epoch) {
  const double gamma = std::pow(c.end / c.start, 1.0 / static_cast<double>(c.steps - 1));
  std::unique_ptr<sched::Curve> curve = std::make_unique<sched::ExponentialCurve>(c.start, gamma);
  if (s0 > 0) {
    std::vector<std::unique_ptr<sched::Curve>> phases;
    phases.push_back(std::make_unique<sched::ConstantCurve>(c.start));
    phases.push_back(std::move(curve));
    curve = std::make_unique<sched::SequenceCurve>(std::move(phases),
                                                   std::vector<double>{0.0, double(s0)});
  }
  return sched::Schedule(std::move(curve), c.start, /*steps_per_unit=*/1, steps_per_epoch,
                         /*per_epoch=*/false, std::nullopt);
}

// Fills the suggestions and the note of a finished sweep.
void suggest(LrFindResult& r) {
  r.suggested_steepest = r.suggested_min10 = r.suggested = r.min_loss_lr = kNaN;
  const auto n = static_cast<int64_t>(r.lr.size());
  if (n == 0) {
    r.note =
        "the first step already gave a non-finite loss: no rate could be measured; check "
        "the data, or lower --start";
    return;
  }
  const int64_t skip = std::max<int64_t>(1, n / 10);
  const auto m = static_cast<int64_t>(std::min_element(r.smoothed.begin(), r.smoothed.end()) -
                                      r.smoothed.begin());
  // Did the loss fall? Against the first losses, by more than their noise could explain.
  const int64_t n_ref = std::min(n, std::max<int64_t>(10, skip));
  double reference = 0.0, sq = 0.0;
  for (int64_t i = 0; i < n_ref; ++i) reference += r.loss[size_t(i)];
  reference /= static_cast<double>(n_ref);
  for (int64_t i = 0; i < n_ref; ++i) sq += std::pow(r.loss[size_t(i)] - reference, 2);
  const double standard_error =
      std::sqrt(sq / static_cast<double>(n_ref)) / std::sqrt(static_cast<double>(n_ref));
  const double margin = std::max(0.05 * reference, 4.0 * standard_error);
  if (!(r.smoothed[size_t(m)] < reference - margin)) {
    r.note = fmt::format(
        "the loss never decreased (smoothed minimum {:.4g}, first losses {:.4g} on average): no "
        "rate in [{:.3g}, {:.3g}] trains this model; check the data and the model, or try "
        "another range",
        r.smoothed[size_t(m)], reference, r.lr.front(), r.lr.back());
    return;
  }
  r.min_loss_lr = r.lr[size_t(m)];
  r.suggested_min10 = r.min_loss_lr / 10.0;

  // Neighbouring points differ by batch noise as much as by the trend: the centred difference
  // spans +-k points (a tenth of the sweep).
  const int64_t k = std::max<int64_t>(1, n / 20);
  double best_slope = 0.0;
  for (int64_t i = std::max(skip, k); i <= std::min(m, n - 1 - k); ++i) {
    const double slope = (r.smoothed[size_t(i + k)] - r.smoothed[size_t(i - k)]) /
                         (std::log10(r.lr[size_t(i + k)]) - std::log10(r.lr[size_t(i - k)]));
    if (slope < best_slope) {
      best_slope = slope;
      r.suggested_steepest = r.lr[size_t(i)];
    }
  }
  if (std::isfinite(r.suggested_steepest) && r.suggested_steepest < r.suggested_min10)
    r.suggested = std::sqrt(r.suggested_steepest * r.suggested_min10);
  else
    r.suggested = r.suggested_min10;

  if (m == n - 1 && !r.diverged)
    r.note =
        "the loss was still falling at the end of the sweep: the minimum may lie beyond "
        "--end; try a larger --end";
  else if (m < skip)
    r.note = "the loss was lowest in the first tenth of the sweep: --start may be too large";
}

}  // namespace

void check_lr_find_config(const LrFindConfig& c) {
  SCULPT_CHECK(std::isfinite(c.start) && c.start > 0, ConfigError,
               fmt::format("the first rate must be > 0, got {}", c.start), "--start",
               "e.g. --start 1e-7");
  SCULPT_CHECK(
      std::isfinite(c.end) && c.end > c.start, ConfigError,
      fmt::format("the last rate must be finite and above --start ({}), got {}", c.start, c.end),
      "--end", "e.g. --end 10");
  SCULPT_CHECK(c.steps >= 10, ConfigError,
               fmt::format("the sweep needs at least 10 steps, got {}", c.steps), "--steps",
               "100-300 steps give a readable curve");
  SCULPT_CHECK(c.smooth >= 0 && c.smooth < 1, ConfigError,
               fmt::format("the smoothing coefficient must be in [0, 1), got {}", c.smooth),
               "--smooth", "0.98 is the usual value; 0 shows the raw loss");
  SCULPT_CHECK(std::isfinite(c.diverge) && c.diverge > 1, ConfigError,
               fmt::format("the divergence factor must be > 1, got {}", c.diverge), "--diverge",
               "4 stops when the smoothed loss is 4x its best");
}

LrFindResult lr_find(Trainer& t, const LrFindConfig& c) {
  check_lr_find_config(c);
  const Trainer::Snapshot before = t.snapshot();
  const int64_t s0 = t.step();
  const sched::Schedule schedule = sweep_schedule(c, s0, t.steps_per_epoch());

  LrFindResult r;
  double avg = 0.0, best = std::numeric_limits<double>::infinity();
  double beta_power = 1.0;  // smooth^(i + 1) after the update
  auto record = [&](const StepResult& s) {
    if (s.skipped || !std::isfinite(s.loss)) {
      r.diverged = true;
      return false;
    }
    avg = c.smooth * avg + (1.0 - c.smooth) * s.loss;
    beta_power *= c.smooth;
    const double smoothed = avg / (1.0 - beta_power);
    r.lr.push_back(s.lr);
    r.loss.push_back(s.loss);
    r.smoothed.push_back(smoothed);
    best = std::min(best, smoothed);
    if (smoothed > c.diverge * best) {
      r.diverged = true;
      return false;
    }
    return true;
  };
  try {
    r.steps_run = t.train_steps(c.steps, schedule, record);
  } catch (const NumericError&) {
    // A non-finite gradient under train.nonfinite = "stop": the rate is past divergence.
    r.diverged = true;
    r.steps_run = static_cast<int64_t>(r.lr.size()) + 1;
  } catch (...) {
    t.restore(before);
    throw;
  }
  t.restore(before);
  suggest(r);
  return r;
}

}  // namespace sculpt::train

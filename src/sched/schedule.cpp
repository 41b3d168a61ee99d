// Schedule: step -> time in the schedule's unit -> the family's curve, scaled by the plateau.
#include "sched/schedule.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include "sched/curves.h"

namespace sculpt::sched {

const std::vector<Field<PlateauConfig>>& PlateauConfig::fields() {
  using C = PlateauConfig;
  static const std::vector<Field<C>> f = {
      {"enabled", &C::enabled, "reduce on plateau (writing [schedule.plateau] turns it on)"},
      {"metric",
       &C::metric,
       {"val_loss", "val_acc", "train_loss", "train_acc"},
       "the metric watched, once per epoch"},
      {"mode", &C::mode,
       "min: lower is better; max: higher is better; auto: min for losses, max for accuracies"},
      {"factor", &C::factor, Range{.min = 0, .max = 1, .min_open = true, .max_open = true},
       "the rate is multiplied by it at each reduction"},
      {"patience", &C::patience, at_least(0), "epochs without improvement before a reduction"},
      {"threshold", &C::threshold, at_least(0), "smallest change that counts as an improvement"},
      {"threshold_mode", &C::threshold_mode,
       "rel: better than best*(1 -/+ threshold); abs: better than best -/+ threshold"},
      {"cooldown", &C::cooldown, at_least(0), "epochs after a reduction before counting again"},
      {"min_lr", &C::min_lr, at_least(0), "reductions never take the base rate below it"},
      {"eps", &C::eps, at_least(0), "a reduction smaller than this is skipped"},
  };
  return f;
}

Schedule Schedule::constant(double lr) {
  return Schedule(std::make_unique<ConstantCurve>(lr), lr, 1, 1, false, std::nullopt);
}

Schedule::Schedule(std::unique_ptr<Curve> curve, double base_lr, int64_t steps_per_unit,
                   int64_t steps_per_epoch, bool per_epoch, std::optional<PlateauConfig> plateau)
    : curve_(std::move(curve)),
      base_lr_(base_lr),
      steps_per_unit_(steps_per_unit),
      steps_per_epoch_(steps_per_epoch),
      per_epoch_(per_epoch),
      plateau_(std::move(plateau)) {
  if (plateau_ && plateau_->mode == PlateauMode::kAuto)
    plateau_->mode = plateau_->metric.ends_with("_acc") ? PlateauMode::kMax : PlateauMode::kMin;
}

Schedule::Schedule(Schedule&&) noexcept = default;
Schedule& Schedule::operator=(Schedule&&) noexcept = default;
Schedule::~Schedule() = default;

namespace {

// The time in the schedule's unit; exact for whole units.
double time_of(int64_t step, int64_t per_unit, int64_t per_epoch, bool whole_epochs) {
  if (whole_epochs) step = step / per_epoch * per_epoch;
  if (step % per_unit == 0) return static_cast<double>(step / per_unit);
  return static_cast<double>(step) / static_cast<double>(per_unit);
}

}  // namespace

double Schedule::at(int64_t step) const {
  const double t = time_of(step, steps_per_unit_, steps_per_epoch_, per_epoch_);
  const double lr = curve_->lr(t);
  return state_.scale == 1.0 ? lr : lr * state_.scale;
}

std::optional<double> Schedule::momentum_at(int64_t step) const {
  return curve_->momentum(time_of(step, steps_per_unit_, steps_per_epoch_, per_epoch_));
}

bool Schedule::cycles_momentum() const { return curve_->cycles_momentum(); }

const std::string& Schedule::metric() const {
  static const std::string none;
  return plateau_ ? plateau_->metric : none;
}

// torch.optim.lr_scheduler.ReduceLROnPlateau.step(metric), with the rate eta_0 * scale.
bool Schedule::observe(double value) {
  if (!plateau_) return false;
  const PlateauConfig& p = *plateau_;
  const bool min = p.mode == PlateauMode::kMin, rel = p.threshold_mode == ThresholdMode::kRel;
  if (state_.epochs == 0)
    state_.best =
        min ? std::numeric_limits<double>::infinity() : -std::numeric_limits<double>::infinity();
  ++state_.epochs;
  const double b = state_.best;
  const bool better = min ? (rel ? value < b * (1.0 - p.threshold) : value < b - p.threshold)
                          : (rel ? value > b * (p.threshold + 1.0) : value > b + p.threshold);
  if (better) {
    state_.best = value;
    state_.bad_epochs = 0;
  } else {
    ++state_.bad_epochs;
  }
  if (state_.cooldown_left > 0) {
    --state_.cooldown_left;
    state_.bad_epochs = 0;
  }
  if (state_.bad_epochs <= p.patience) return false;
  state_.cooldown_left = p.cooldown;
  state_.bad_epochs = 0;
  const double old_lr = base_lr_ * state_.scale;
  const double new_lr = std::max(old_lr * p.factor, p.min_lr);
  if (old_lr - new_lr <= p.eps) return false;
  state_.scale = base_lr_ > 0 ? new_lr / base_lr_ : state_.scale;
  ++state_.reductions;
  return true;
}

}  // namespace sculpt::sched

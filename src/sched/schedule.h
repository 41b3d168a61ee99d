// Learning-rate schedules: the rate as a pure function of the step (Optax style), built from a
// family curve, an optional linear warmup in front, and an optional reduce-on-plateau factor that
// scales whatever the curve gives (PyTorch can only do plateau on a constant rate).
//
//   lr(step) = plateau_scale * curve(t),  t = step / steps_per_epoch  (unit = "epoch")
//                                         t = step                    (unit = "step")
//
// With update = "epoch" t is floored to the epoch's start, so the rate only changes between
// epochs (PyTorch's scheduler.step() once per epoch); the default "step" keeps epoch-written
// schedules smooth. Families: `sculpt list schedules`, docs/schedules.md.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/fields.h"
#include "core/options.h"
#include "core/registry.h"

namespace sculpt {
struct ScheduleConfig;
struct SchedulePhase;
}  // namespace sculpt

namespace sculpt::sched {

// A family's curve in the schedule's own time unit (fractional epochs allowed). Pure.
class Curve {
 public:
  virtual ~Curve() = default;
  // Requires t >= 0. Ensures a finite value >= 0; same t, same value.
  virtual double lr(double t) const = 0;
  // The momentum (SGD/RMSprop momentum, Adam/NAdam/Lion beta1) at t for families that cycle
  // it inversely to the rate (one-cycle, cyclic); nullopt otherwise.
  virtual std::optional<double> momentum(double) const { return std::nullopt; }
  virtual bool cycles_momentum() const { return false; }
};

// Reduce-on-plateau ([schedule.plateau]): after each epoch's evaluation the watched metric is
// fed to observe(); `patience` epochs without improvement multiply the scale by `factor`.
// Semantics of torch.optim.lr_scheduler.ReduceLROnPlateau, applied as a factor on the curve.
enum class PlateauMode { kAuto, kMin, kMax };
inline constexpr Choice<PlateauMode> kPlateauModes[] = {
    {PlateauMode::kAuto, "auto"}, {PlateauMode::kMin, "min"}, {PlateauMode::kMax, "max"}};
constexpr std::span<const Choice<PlateauMode>> choices_of(PlateauMode) { return kPlateauModes; }

enum class ThresholdMode { kRel, kAbs };
inline constexpr Choice<ThresholdMode> kThresholdModes[] = {{ThresholdMode::kRel, "rel"},
                                                            {ThresholdMode::kAbs, "abs"}};
constexpr std::span<const Choice<ThresholdMode>> choices_of(ThresholdMode) {
  return kThresholdModes;
}

struct PlateauConfig {
  bool enabled = false;                   // set by writing [schedule.plateau]
  std::string metric = "val_loss";        // val_loss | val_acc | train_loss | train_acc
  PlateauMode mode = PlateauMode::kAuto;  // auto: min for losses, max for accuracies
  double factor = 0.1;                    // in (0, 1)
  int64_t patience = 10;                  // epochs without improvement before a reduction
  double threshold = 1e-4;                // what counts as an improvement
  ThresholdMode threshold_mode = ThresholdMode::kRel;
  int64_t cooldown = 0;  // epochs after a reduction before counting again
  double min_lr = 0.0;   // the rate never goes below it
  double eps = 1e-8;     // reductions smaller than this are skipped

  static const std::vector<Field<PlateauConfig>>& fields();
};

// What the plateau has seen; saved in checkpoints so a resume continues the same sequence.
struct PlateauState {
  double scale = 1.0;
  double best = 0.0;  // meaningful once epochs > 0
  int64_t bad_epochs = 0;
  int64_t cooldown_left = 0;
  int64_t epochs = 0;      // metrics observed
  int64_t reductions = 0;  // times the scale was lowered

  bool operator==(const PlateauState&) const = default;
};

// The length of the run a schedule is built for: "total = 0" fields mean the rest of the run.
struct RunLength {
  int64_t steps_per_epoch = 1;  // > 0
  int64_t total_steps = 0;      // > 0: epochs * steps_per_epoch
};

class Schedule {
 public:
  // A constant rate (tests and tools).
  static Schedule constant(double lr);
  // `steps_per_unit`: steps_per_epoch for unit = "epoch", 1 for "step"; `per_epoch`: update =
  // "epoch"; `base_lr` is eta_0 (the plateau's min_lr bounds its reductions of it).
  Schedule(std::unique_ptr<Curve> curve, double base_lr, int64_t steps_per_unit,
           int64_t steps_per_epoch, bool per_epoch, std::optional<PlateauConfig> plateau);
  Schedule(Schedule&&) noexcept;
  Schedule& operator=(Schedule&&) noexcept;
  ~Schedule();

  // Requires step >= 0. Finite, >= 0; depends only on the step and the plateau state.
  double at(int64_t step) const;
  // The momentum the optimizer should use at `step`, when the family cycles it.
  std::optional<double> momentum_at(int64_t step) const;
  bool cycles_momentum() const;

  // Reduce-on-plateau: whether a metric is watched, which, and feeding it (once per epoch,
  // after evaluation). observe returns true when the rate was lowered. No-op without plateau.
  bool watches() const { return plateau_.has_value(); }
  const std::string& metric() const;
  bool observe(double value);
  const PlateauState& plateau_state() const { return state_; }
  void set_plateau_state(const PlateauState& s) { state_ = s; }

 private:
  std::unique_ptr<Curve> curve_;
  double base_lr_ = 0.0;
  int64_t steps_per_unit_ = 1;
  int64_t steps_per_epoch_ = 1;
  bool per_epoch_ = false;
  std::optional<PlateauConfig> plateau_;
  PlateauState state_;
};

// Builds the schedule of cfg around the optimizer's base rate `lr`. Throws ConfigError naming
// the field for values that make no sense for this run (warmup longer than the run, ...).
Schedule make_schedule(const ScheduleConfig& cfg, double lr, RunLength run);

// Registry: one row per family, for `sculpt list schedules` and docs/schedules.md.
struct ScheduleInfo {
  std::string name;
  std::string title;    // "Cosine annealing"
  std::string formula;  // plain text
  std::string torch;    // the PyTorch scheduler it matches ("" if none)
  std::string example;  // a recipe [schedule] table
  std::vector<FieldRow> fields;
};
const std::vector<ScheduleInfo>& schedule_infos();
std::vector<std::string> schedule_names();
// What the recipe reader asks of the families (core/registry.h); a family's keys include the
// common ones, and any_field knows them and a phase's `length` (to read
// `--set schedule.key=text`).
const FamilyIndex& schedule_index();
// The keys every family takes (unit, update, warmup, warmup_start).
std::vector<FieldRow> common_schedule_rows();

// Checks cfg's options against its family (and its phases against theirs); returns every
// option with its value, defaults filled in. Throws ConfigError for unknown names/keys/values.
Options resolve_options(const ScheduleConfig& cfg);
// The same for phase i of a sequence (its family's keys and `length`).
Options resolve_phase_options(const SchedulePhase& phase, size_t i);
// Whether the schedule's values depend on the run's length (a "total = 0" field, a last phase
// without a length, or unit = "run"): then train.epochs cannot change on resume.
bool depends_on_run_length(const ScheduleConfig& cfg);

}  // namespace sculpt::sched

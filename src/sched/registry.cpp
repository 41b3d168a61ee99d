// The schedule registry: one config struct and one row per family. Each row carries the formula,
// the PyTorch scheduler it matches and an example; `sculpt list schedules` and docs/schedules.md
// print them. make_schedule assembles warmup, phases and plateau around the family's curve.
// GCC 12 reports array-bounds/maybe-uninitialized false positives when it inlines the generic
// field visitors (every member type) for the small family structs below (ConstantCfg is
// empty); they are located in core/fields.h, so this comes before the includes.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Warray-bounds"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif

#include "core/registry.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <functional>

#include "core/error.h"
#include "sched/config.h"
#include "sched/curves.h"
#include "sched/families.h"
#include "sched/schedule.h"

namespace sculpt::sched {

using namespace detail;

namespace {

// ---- the registry ----

struct Row {
  ScheduleInfo info;
  OptionFields fields;
  std::function<std::unique_ptr<Curve>(const Options&, const Ctx&)> make;  // resolved options
  std::function<bool(const Options&)> uses_run_length;
};

// Whether a family's curve, as configured, stretches to the end of the run (families.h:
// kRunLength).
template <class C>
bool uses_run_length(const C& o) {
  if constexpr (requires { C::kRunLength; }) return o.*C::kRunLength == 0;
  return false;
}

template <class C>
Row row(const char* name, const char* title, const char* formula, const char* torch,
        const char* example) {
  return Row{
      ScheduleInfo{name, title, formula, torch, example, describe_fields<C>("schedule")},
      option_fields<C>(name),
      [name](const Options& o, const Ctx& c) { return C::build(options_to<C>(o, c.key, name), c); },
      [name](const Options& o) { return uses_run_length(options_to<C>(o, "schedule", name)); },
  };
}

const Registry<Row>& registry() {
  static const Registry<Row> r(
      "schedule.name",
      {
          row<ConstantCfg>("constant", "Constant", "eta_t = eta_0", "",
                           "[schedule]\nname = \"constant\"\n"),
          row<StepCfg>("step", "Step decay", "eta_t = eta_0 * gamma^floor(t / step_size)", "StepLR",
                       "[schedule]\nname = \"step\"\nstep_size = 7\ngamma = 0.1\n"),
          row<MultiStepCfg>("multistep", "Multi-step decay",
                            "eta_t = eta_0 * gamma^(number of milestones <= t)", "MultiStepLR",
                            "[schedule]\nname = \"multistep\"\nmilestones = [5, 8]\ngamma = 0.1\n"),
          row<ExponentialCfg>("exponential", "Exponential decay", "eta_t = eta_0 * gamma^t",
                              "ExponentialLR", "[schedule]\nname = \"exponential\"\ngamma = 0.8\n"),
          row<PolynomialCfg>("polynomial", "Polynomial decay",
                             "eta_t = (eta_0 - end_lr) * (1 - min(t, T)/T)^power + end_lr",
                             "PolynomialLR (end_lr = 0)",
                             "[schedule]\nname = \"polynomial\"\npower = 2.0\n"),
          row<InverseTimeCfg>("inverse-time", "Inverse-time decay",
                              "eta_t = eta_0 / (1 + beta * t / T)   (t/T floored when staircase)",
                              "", "[schedule]\nname = \"inverse-time\"\nbeta = 4.0\n"),
          row<CosineCfg>("cosine", "Cosine annealing",
                         "eta_t = min_lr + (eta_0 - min_lr) * (1 + cos(pi * min(t, T) / T)) / 2",
                         "CosineAnnealingLR (up to T)",
                         "[schedule]\nname = \"cosine\"\nwarmup = 1\n"),
          row<RestartsCfg>("cosine-restarts", "Cosine annealing with warm restarts",
                           "cycle i lasts T_i = period * period_mult^i; within it\n"
                           "eta_t = min_lr + (eta_0 - min_lr) * (1 + cos(pi * t_i / T_i)) / 2",
                           "CosineAnnealingWarmRestarts",
                           "[schedule]\nname = \"cosine-restarts\"\nperiod = 2\nperiod_mult = 2\n"),
          row<CyclicCfg>(
              "cyclic", "Cyclical learning rate",
              "x = position in the cycle, 0 at the bottom and 1 at the top\n"
              "eta_t = eta_0 + (max_lr - eta_0) * x * a   (a: 1, 1/2^(cycle-1), gamma^t)",
              "CyclicLR", "[schedule]\nname = \"cyclic\"\nmax_lr = 0.5\nstep_size_up = 2\n"),
          row<OneCycleCfg>(
              "one-cycle", "One-cycle",
              "rise from max_lr/div_factor to max_lr over pct_start of the cycle, then\n"
              "anneal (cos or linear) to max_lr/div_factor/final_div_factor;\n"
              "momentum moves the other way between max_momentum and base_momentum",
              "OneCycleLR", "[schedule]\nname = \"one-cycle\"\nmax_lr = 0.4\n"),
          row<WsdCfg>("warmup-stable-decay", "Warmup-stable-decay",
                      "eta_t = eta_0 for t < (1 - decay) * T, then linear (or half-cosine) down "
                      "to min_lr at T;\nwith `warmup`, a linear rise first",
                      "", "[schedule]\nname = \"warmup-stable-decay\"\nwarmup = 1\ndecay = 0.3\n"),
          row<LinearCfg>(
              "linear", "Linear ramp",
              "eta_t = eta_0 * (start_factor + (end_factor - start_factor) * min(t, T)/T)",
              "LinearLR", "[schedule]\nname = \"linear\"\n"),
          row<ConstantCfg>(
              "sequence", "Sequence of phases",
              "phase i (a family with its own keys and a length) runs from the end of\n"
              "phase i-1, with its own t starting at 0",
              "SequentialLR",
              "[schedule]\nname = \"sequence\"\n\n[[schedule.phases]]\nname = "
              "\"constant\"\nlength = 2\n\n[[schedule.phases]]\nname = \"cosine\"\n"),
      });
  return r;
}

const Row& find_row(std::string_view name, std::string_view key, const std::string& where) {
  return registry().find(name, where, key);
}

// Splits written options into the common ones and the family's.
void split(const Options& all, Options& common, Options& own) {
  for (const Option& o : all.items())
    (find_field<CommonCfg>(o.key) ? common : own).set(o.key, o.value, o.where);
}

// A phase's options without `length`, and its length.
Options phase_own(const SchedulePhase& ph, size_t i, double& length) {
  Options own, len;
  const std::string key = fmt::format("schedule.phases[{}]", i);
  for (const Option& o : ph.options.items()) {
    if (find_field<CommonCfg>(o.key))
      throw ConfigError(fmt::format("{}.{} belongs in [schedule], not in a phase", key, o.key),
                        o.where, "unit, update and warmup apply to the whole schedule");
    (o.key == "length" ? len : own).set(o.key, o.value, o.where);
  }
  length = options_to<PhaseCfg>(len, key, ph.name).length;
  return own;
}

}  // namespace

const std::vector<ScheduleInfo>& schedule_infos() { return registry().infos(); }

std::vector<std::string> schedule_names() { return registry().names(); }

std::vector<FieldRow> common_schedule_rows() { return describe_fields<CommonCfg>("schedule"); }

// The families' own keys with the common ones (and a phase's `length`) in front.
const FamilyIndex& schedule_index() {
  static const FamilyIndex index = [] {
    FamilyIndex i = registry().index();
    i.fields = [](std::string_view name) {
      std::vector<std::string> out = field_names<CommonCfg>();
      for (std::string& k : registry().fields(name)) out.push_back(std::move(k));
      return out;
    };
    i.has_field = [](std::string_view name, std::string_view key) {
      return find_field<CommonCfg>(key) || registry().has_field(name, key);
    };
    i.any_field = [](std::string_view key) -> const FieldSpec* {
      if (const Field<CommonCfg>* f = find_field<CommonCfg>(key)) return &f->spec;
      if (const Field<PhaseCfg>* f = find_field<PhaseCfg>(key)) return &f->spec;
      return registry().any_field(key);
    };
    return i;
  }();
  return index;
}

Options resolve_options(const ScheduleConfig& cfg) {
  const Row& row =
      find_row(cfg.name, "schedule.name", cfg.options.empty() ? "" : cfg.options.items()[0].where);
  Options common, own;
  split(cfg.options, common, own);
  Options out = to_options(options_to<CommonCfg>(common, "schedule", cfg.name));
  const Options family = row.fields.resolve(own, "schedule");
  for (const Option& o : family.items()) out.set(o.key, o.value);
  if (cfg.name == "sequence" && cfg.phases.empty())
    throw ConfigError("schedule.name = \"sequence\" needs [[schedule.phases]]", "schedule",
                      "add [[schedule.phases]] tables, each with name, its keys and length");
  if (cfg.name != "sequence" && !cfg.phases.empty())
    throw ConfigError(
        fmt::format("[[schedule.phases]] needs schedule.name = \"sequence\", got \"{}\"", cfg.name),
        cfg.phases[0].where, "set name = \"sequence\" or remove the phases");
  return out;
}

Options resolve_phase_options(const SchedulePhase& ph, size_t i) {
  const std::string key = fmt::format("schedule.phases[{}]", i);
  if (ph.name == "sequence")
    throw ConfigError(fmt::format("{}.name cannot be \"sequence\"", key), ph.where,
                      "list the inner phases in the outer sequence instead");
  const Row& row = find_row(ph.name, key + ".name", ph.where);
  double length = 0;
  Options out = row.fields.resolve(phase_own(ph, i, length), key);
  out.set("length", length);
  return out;
}

bool depends_on_run_length(const ScheduleConfig& cfg) {
  Options common, own;
  split(cfg.options, common, own);
  if (options_to<CommonCfg>(common, "schedule", cfg.name).unit == Unit::kRun) return true;
  if (cfg.name != "sequence") return find_row(cfg.name, "schedule.name", "").uses_run_length(own);
  for (size_t i = 0; i < cfg.phases.size(); ++i) {
    double length = 0;
    const Options o = phase_own(cfg.phases[i], i, length);
    if (length == 0 || find_row(cfg.phases[i].name, "", "").uses_run_length(o)) return true;
  }
  return false;
}

namespace {

// The phases of schedule.name = "sequence", each a family's curve over its length.
std::unique_ptr<Curve> make_sequence(const ScheduleConfig& cfg, const Ctx& ctx,
                                     const CommonCfg& common, double run_units) {
  resolve_options(cfg);  // the phases are present
  std::vector<std::unique_ptr<Curve>> phases;
  std::vector<double> starts;
  double start = 0;
  for (size_t i = 0; i < cfg.phases.size(); ++i) {
    const SchedulePhase& ph = cfg.phases[i];
    double length = 0;
    const Options o = phase_own(ph, i, length);
    const bool last = i + 1 == cfg.phases.size();
    Ctx pc = ctx;
    pc.key = fmt::format("schedule.phases[{}]", i);
    pc.where = ph.where;
    if (!last && length == 0)
      bad(pc, "length", "is required on every phase but the last",
          "give each phase's length in the schedule's unit");
    if (start >= ctx.length)
      throw ConfigError(
          fmt::format("{} starts at {} {}s, after the run's end ({} {}s)", pc.key,
                      start + common.warmup, text_of(common.unit), run_units, text_of(common.unit)),
          ph.where, "shorten the earlier phases or train for more epochs");
    pc.length = length > 0 ? length : ctx.length - start;
    phases.push_back(find_row(ph.name, pc.key + ".name", ph.where).make(o, pc));
    starts.push_back(start);
    start += length;
  }
  return std::make_unique<SequenceCurve>(std::move(phases), std::move(starts));
}

}  // namespace

Schedule make_schedule(const ScheduleConfig& cfg, double lr, RunLength run) {
  SCULPT_CHECK(run.steps_per_epoch > 0 && run.total_steps > 0, ConfigError, "the run has no steps",
               "train.epochs", "train for at least one step");
  Options common_opts, own;
  split(cfg.options, common_opts, own);
  const CommonCfg common = options_to<CommonCfg>(common_opts, "schedule", cfg.name);
  const int64_t per_unit = common.unit == Unit::kEpoch ? run.steps_per_epoch
                           : common.unit == Unit::kRun ? run.total_steps
                                                       : 1;
  const double run_units = static_cast<double>(run.total_steps) / static_cast<double>(per_unit);
  const std::string where = cfg.options.empty() ? "schedule" : cfg.options.items()[0].where;
  if (common.warmup >= run_units)
    throw ConfigError(
        fmt::format("schedule.warmup = {} {}s is not shorter than the run ({} {}s)", common.warmup,
                    text_of(common.unit), run_units, text_of(common.unit)),
        where, "shorten the warmup or train for more epochs");
  Ctx ctx{.lr = lr,
          .length = run_units - common.warmup,
          // the time between two updates of the rate
          .step = static_cast<double>(common.update == Update::kEpoch ? run.steps_per_epoch : 1) /
                  static_cast<double>(per_unit),
          .key = "schedule",
          .where = where};

  std::unique_ptr<Curve> curve = cfg.name == "sequence"
                                     ? make_sequence(cfg, ctx, common, run_units)
                                     : find_row(cfg.name, "schedule.name", where).make(own, ctx);
  if (common.warmup > 0) {
    std::vector<std::unique_ptr<Curve>> two;
    two.push_back(std::make_unique<LinearCurve>(lr, common.warmup_start, 1.0, common.warmup));
    two.push_back(std::move(curve));
    curve =
        std::make_unique<SequenceCurve>(std::move(two), std::vector<double>{0.0, common.warmup});
  }
  std::optional<PlateauConfig> plateau;
  if (cfg.plateau.enabled) {
    validate_fields(cfg.plateau, "schedule.plateau", where);
    plateau = cfg.plateau;
  }
  return Schedule(std::move(curve), lr, per_unit, run.steps_per_epoch,
                  common.update == Update::kEpoch, std::move(plateau));
}

}  // namespace sculpt::sched

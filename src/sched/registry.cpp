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

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <functional>

#include "core/error.h"
#include "core/suggest.h"
#include "sched/config.h"
#include "sched/curves.h"
#include "sched/schedule.h"

namespace sculpt::sched {

namespace {

// What a family's curve is built from besides its options.
struct Ctx {
  double lr = 0;      // eta_0
  double length = 0;  // units of the run this curve covers ("total = 0" means all of them)
  double step = 1;    // the time between two updates of the rate, in units
  std::string key;    // "schedule" or "schedule.phases[1]", for messages
  std::string where;  // recipe position
};

// `total = 0` (or period = 0) means the rest of the run.
double or_rest(double x, const Ctx& c) { return x > 0 ? x : c.length; }

[[noreturn]] void bad(const Ctx& c, const std::string& field, const std::string& what,
                      const std::string& hint) {
  throw ConfigError(fmt::format("{}.{} {}", c.key, field, what), c.where, hint);
}

// ---- common keys of [schedule] ----

struct CommonCfg {
  std::string unit = "epoch";
  std::string update = "step";
  double warmup = 0.0;
  double warmup_start = 0.0;

  static const std::vector<Field<CommonCfg>>& fields() {
    using C = CommonCfg;
    static const std::vector<Field<C>> f = {
        {"unit", &C::unit, {"epoch", "step", "run"},
         "what lengths and milestones count: epochs, steps, or fractions of the whole run (0.1 = "
         "a tenth), which scale with train.epochs"},
        {"update", &C::update, {"step", "epoch"},
         "step: a new rate every step (smooth); epoch: constant within an epoch (PyTorch's "
         "scheduler.step() per epoch)"},
        {"warmup", &C::warmup, at_least(0),
         "linear warmup length in front of the family (0: none); the family starts after it"},
        {"warmup_start", &C::warmup_start, closed(0, 1),
         "rate at the start of warmup, as a fraction of the base rate"},
    };
    return f;
  }
};

// `length` of a [[schedule.phases]] table.
struct PhaseCfg {
  double length = 0.0;
  static const std::vector<Field<PhaseCfg>>& fields() {
    static const std::vector<Field<PhaseCfg>> f = {
        {"length", &PhaseCfg::length, at_least(0),
         "phase length in the schedule's unit (0 on the last phase: the rest of the run)"}};
    return f;
  }
};

// ---- the families ----

struct ConstantCfg {
  static const std::vector<Field<ConstantCfg>>& fields() {
    static const std::vector<Field<ConstantCfg>> f;
    return f;
  }
  static std::unique_ptr<Curve> build(const ConstantCfg&, const Ctx& c) {
    return std::make_unique<ConstantCurve>(c.lr);
  }
  static bool uses_run_length(const ConstantCfg&) { return false; }
};

struct StepCfg {
  double step_size = 1.0;
  double gamma = 0.1;
  static const std::vector<Field<StepCfg>>& fields() {
    static const std::vector<Field<StepCfg>> f = {
        {"step_size", &StepCfg::step_size, greater_than(0), "units between decays"},
        {"gamma", &StepCfg::gamma, greater_than(0), "factor applied at each decay"},
    };
    return f;
  }
  static std::unique_ptr<Curve> build(const StepCfg& o, const Ctx& c) {
    return std::make_unique<StepCurve>(c.lr, o.step_size, o.gamma);
  }
  static bool uses_run_length(const StepCfg&) { return false; }
};

struct MultiStepCfg {
  NumberList milestones = {};
  double gamma = 0.1;
  static const std::vector<Field<MultiStepCfg>>& fields() {
    static const std::vector<Field<MultiStepCfg>> f = {
        {"milestones", &MultiStepCfg::milestones, greater_than(0),
         "increasing times (in units) at which the rate is multiplied by gamma"},
        {"gamma", &MultiStepCfg::gamma, greater_than(0), "factor applied at each milestone"},
    };
    return f;
  }
  static std::unique_ptr<Curve> build(const MultiStepCfg& o, const Ctx& c) {
    if (o.milestones.empty())
      bad(c, "milestones", "is empty", "give the decay times, e.g. milestones = [30, 60, 90]");
    for (size_t i = 1; i < o.milestones.size(); ++i)
      if (o.milestones[i] <= o.milestones[i - 1])
        bad(c, "milestones",
            fmt::format("must increase, but {} follows {}", o.milestones[i], o.milestones[i - 1]),
            "list the milestones in increasing order without repeats");
    return std::make_unique<MultiStepCurve>(c.lr, o.milestones, o.gamma);
  }
  static bool uses_run_length(const MultiStepCfg&) { return false; }
};

struct ExponentialCfg {
  double gamma = 0.95;
  static const std::vector<Field<ExponentialCfg>>& fields() {
    static const std::vector<Field<ExponentialCfg>> f = {
        {"gamma", &ExponentialCfg::gamma, greater_than(0), "factor per unit"}};
    return f;
  }
  static std::unique_ptr<Curve> build(const ExponentialCfg& o, const Ctx& c) {
    return std::make_unique<ExponentialCurve>(c.lr, o.gamma);
  }
  static bool uses_run_length(const ExponentialCfg&) { return false; }
};

struct PolynomialCfg {
  double total = 0.0;
  double power = 1.0;
  double end_lr = 0.0;
  static const std::vector<Field<PolynomialCfg>>& fields() {
    using C = PolynomialCfg;
    static const std::vector<Field<C>> f = {
        {"total", &C::total, at_least(0), "T: units to reach end_lr (0: the rest of the run)"},
        {"power", &C::power, at_least(0), "alpha: 1 is linear, 2 quadratic, 0.5 square root"},
        {"end_lr", &C::end_lr, at_least(0), "rate at T and after"},
    };
    return f;
  }
  static std::unique_ptr<Curve> build(const PolynomialCfg& o, const Ctx& c) {
    return std::make_unique<PolynomialCurve>(c.lr, or_rest(o.total, c), o.power, o.end_lr);
  }
  static bool uses_run_length(const PolynomialCfg& o) { return o.total == 0; }
};

struct InverseTimeCfg {
  double period = 0.0;
  double beta = 1.0;
  bool staircase = false;
  static const std::vector<Field<InverseTimeCfg>>& fields() {
    using C = InverseTimeCfg;
    static const std::vector<Field<C>> f = {
        {"period", &C::period, at_least(0), "T in eta_0/(1 + beta*t/T) (0: the whole run)"},
        {"beta", &C::beta, at_least(0), "decay rate: at t = T the rate is eta_0/(1 + beta)"},
        {"staircase", &C::staircase, "use floor(t/T): a new rate every T units"},
    };
    return f;
  }
  static std::unique_ptr<Curve> build(const InverseTimeCfg& o, const Ctx& c) {
    return std::make_unique<InverseTimeCurve>(c.lr, or_rest(o.period, c), o.beta, o.staircase);
  }
  static bool uses_run_length(const InverseTimeCfg& o) { return o.period == 0; }
};

struct CosineCfg {
  double total = 0.0;
  double min_lr = 0.0;
  static const std::vector<Field<CosineCfg>>& fields() {
    static const std::vector<Field<CosineCfg>> f = {
        {"total", &CosineCfg::total, at_least(0),
         "T: units of the half cosine (0: the rest of the run); held at min_lr after"},
        {"min_lr", &CosineCfg::min_lr, at_least(0), "rate at T"},
    };
    return f;
  }
  static std::unique_ptr<Curve> build(const CosineCfg& o, const Ctx& c) {
    return std::make_unique<CosineCurve>(c.lr, or_rest(o.total, c), o.min_lr);
  }
  static bool uses_run_length(const CosineCfg& o) { return o.total == 0; }
};

struct RestartsCfg {
  double period = 10.0;
  double period_mult = 1.0;
  double min_lr = 0.0;
  static const std::vector<Field<RestartsCfg>>& fields() {
    using C = RestartsCfg;
    static const std::vector<Field<C>> f = {
        {"period", &C::period, greater_than(0), "T_0: units of the first cycle"},
        {"period_mult", &C::period_mult, at_least(1), "T_mult: each cycle this much longer"},
        {"min_lr", &C::min_lr, at_least(0), "rate at the end of each cycle"},
    };
    return f;
  }
  static std::unique_ptr<Curve> build(const RestartsCfg& o, const Ctx& c) {
    return std::make_unique<CosineRestartsCurve>(c.lr, o.period, o.period_mult, o.min_lr);
  }
  static bool uses_run_length(const RestartsCfg&) { return false; }
};

const Range kMomentum = half_open(0, 1);

struct CyclicCfg {
  double max_lr = 0.0;
  double step_size_up = 2.0;
  double step_size_down = 0.0;
  std::string mode = "triangular";
  double gamma = 1.0;
  bool cycle_momentum = false;
  double base_momentum = 0.8;
  double max_momentum = 0.9;
  static const std::vector<Field<CyclicCfg>>& fields() {
    using C = CyclicCfg;
    static const std::vector<Field<C>> f = {
        {"max_lr", &C::max_lr, at_least(0), "top of the cycle (required; the bottom is optim.lr)"},
        {"step_size_up", &C::step_size_up, greater_than(0), "units from the bottom to the top"},
        {"step_size_down", &C::step_size_down, at_least(0),
         "units from the top back down (0: step_size_up)"},
        {"mode", &C::mode, {"triangular", "triangular2", "exp_range"},
         "triangular2 halves the amplitude every cycle; exp_range scales it by gamma^t"},
        {"gamma", &C::gamma, Range{.min = 0, .max = 1, .min_open = true},
         "exp_range: amplitude factor per unit"},
        {"cycle_momentum", &C::cycle_momentum,
         "cycle the optimizer's momentum (or beta1) inversely, max at the bottom"},
        {"base_momentum", &C::base_momentum, kMomentum, "momentum at the top of the cycle"},
        {"max_momentum", &C::max_momentum, kMomentum, "momentum at the bottom of the cycle"},
    };
    return f;
  }
  static std::unique_ptr<Curve> build(const CyclicCfg& o, const Ctx& c) {
    if (o.max_lr <= 0)
      bad(c, "max_lr", "is required for the cyclic schedule",
          fmt::format("set max_lr above the base rate {} (e.g. an lr-find suggestion)", c.lr));
    const int mode = o.mode == "triangular2" ? 1 : o.mode == "exp_range" ? 2 : 0;
    return std::make_unique<CyclicCurve>(CyclicParams{
        .base_lr = c.lr,
        .max_lr = o.max_lr,
        .up = o.step_size_up,
        .down = o.step_size_down > 0 ? o.step_size_down : o.step_size_up,
        .mode = mode,
        .gamma = o.gamma,
        .cycle_momentum = o.cycle_momentum,
        .base_momentum = o.base_momentum,
        .max_momentum = o.max_momentum});
  }
  static bool uses_run_length(const CyclicCfg&) { return false; }
};

struct OneCycleCfg {
  double max_lr = 0.0;
  double total = 0.0;
  double pct_start = 0.3;
  double div_factor = 25.0;
  double final_div_factor = 1e4;
  std::string anneal = "cos";
  bool three_phase = false;
  bool cycle_momentum = true;
  double base_momentum = 0.85;
  double max_momentum = 0.95;
  static const std::vector<Field<OneCycleCfg>>& fields() {
    using C = OneCycleCfg;
    static const std::vector<Field<C>> f = {
        {"max_lr", &C::max_lr, at_least(0), "peak rate (0: optim.lr)"},
        {"total", &C::total, at_least(0), "units of the cycle (0: the rest of the run)"},
        {"pct_start", &C::pct_start, Range{.min = 0, .max = 1, .min_open = true, .max_open = true},
         "fraction of the cycle spent rising"},
        {"div_factor", &C::div_factor, greater_than(0), "start rate = max_lr / div_factor"},
        {"final_div_factor", &C::final_div_factor, greater_than(0),
         "end rate = start rate / final_div_factor"},
        {"anneal", &C::anneal, {"cos", "linear"}, "shape of each phase"},
        {"three_phase", &C::three_phase,
         "rise, fall back to the start rate symmetrically, then anneal to the end rate"},
        {"cycle_momentum", &C::cycle_momentum,
         "cycle the optimizer's momentum (or beta1) inversely: max_momentum -> base -> max"},
        {"base_momentum", &C::base_momentum, kMomentum, "momentum at the peak rate"},
        {"max_momentum", &C::max_momentum, kMomentum, "momentum at the start and the end"},
    };
    return f;
  }
  static std::unique_ptr<Curve> build(const OneCycleCfg& o, const Ctx& c) {
    const double total = or_rest(o.total, c);
    const double up_end = o.pct_start * total - c.step, end = total - c.step;
    const double mid_end = 2.0 * o.pct_start * total - 2.0 * c.step;
    if (!(up_end > 0 && end > up_end && (!o.three_phase || (mid_end > up_end && end > mid_end))))
      bad(c, o.total > 0 ? "total" : "pct_start",
          fmt::format("leaves a one-cycle phase empty ({} units of {} steps each)", total,
                      1.0 / c.step),
          "lengthen the cycle or move pct_start away from 0 and 1 (three_phase: below 0.5)");
    return std::make_unique<OneCycleCurve>(OneCycleParams{.max_lr = o.max_lr > 0 ? o.max_lr : c.lr,
                                                          .total = total,
                                                          .pct_start = o.pct_start,
                                                          .div = o.div_factor,
                                                          .final_div = o.final_div_factor,
                                                          .step = c.step,
                                                          .cosine = o.anneal == "cos",
                                                          .three_phase = o.three_phase,
                                                          .cycle_momentum = o.cycle_momentum,
                                                          .base_momentum = o.base_momentum,
                                                          .max_momentum = o.max_momentum});
  }
  static bool uses_run_length(const OneCycleCfg& o) { return o.total == 0; }
};

struct LinearCfg {
  double start_factor = 1.0;
  double end_factor = 0.0;
  double total = 0.0;
  static const std::vector<Field<LinearCfg>>& fields() {
    using C = LinearCfg;
    static const std::vector<Field<C>> f = {
        {"start_factor", &C::start_factor, at_least(0), "rate at t = 0, as a fraction of eta_0"},
        {"end_factor", &C::end_factor, at_least(0), "rate at T and after, as a fraction"},
        {"total", &C::total, at_least(0), "T: units of the ramp (0: the rest of the run)"},
    };
    return f;
  }
  static std::unique_ptr<Curve> build(const LinearCfg& o, const Ctx& c) {
    return std::make_unique<LinearCurve>(c.lr, o.start_factor, o.end_factor, or_rest(o.total, c));
  }
  static bool uses_run_length(const LinearCfg& o) { return o.total == 0; }
};

// ---- the registry ----

struct Row {
  ScheduleInfo info;
  std::function<Options(const Options&, std::string_view table)> resolve;  // checks, fills in
  std::function<const FieldSpec*(std::string_view)> spec;
  std::function<std::unique_ptr<Curve>(const Options&, const Ctx&)> make;  // resolved options
  std::function<bool(const Options&)> uses_run_length;
};

template <class C>
Row row(const char* name, const char* title, const char* formula, const char* torch,
        const char* example) {
  return Row{
      ScheduleInfo{name, title, formula, torch, example, describe_fields<C>("schedule")},
      [name](const Options& o, std::string_view table) {
        return to_options(options_to<C>(o, table, name));
      },
      [](std::string_view key) -> const FieldSpec* {
        const Field<C>* f = find_field<C>(key);
        return f ? &f->spec : nullptr;
      },
      [name](const Options& o, const Ctx& c) {
        return C::build(options_to<C>(o, c.key, name), c);
      },
      [name](const Options& o) { return C::uses_run_length(options_to<C>(o, "schedule", name)); },
  };
}

const std::vector<Row>& rows() {
  static const std::vector<Row> r = {
      row<ConstantCfg>("constant", "Constant", "eta_t = eta_0", "", "[schedule]\nname = \"constant\"\n"),
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
                          "eta_t = eta_0 / (1 + beta * t / T)   (t/T floored when staircase)", "",
                          "[schedule]\nname = \"inverse-time\"\nbeta = 4.0\n"),
      row<CosineCfg>("cosine", "Cosine annealing",
                     "eta_t = min_lr + (eta_0 - min_lr) * (1 + cos(pi * min(t, T) / T)) / 2",
                     "CosineAnnealingLR (up to T)",
                     "[schedule]\nname = \"cosine\"\nwarmup = 1\n"),
      row<RestartsCfg>("cosine-restarts", "Cosine annealing with warm restarts",
                       "cycle i lasts T_i = period * period_mult^i; within it\n"
                       "eta_t = min_lr + (eta_0 - min_lr) * (1 + cos(pi * t_i / T_i)) / 2",
                       "CosineAnnealingWarmRestarts",
                       "[schedule]\nname = \"cosine-restarts\"\nperiod = 2\nperiod_mult = 2\n"),
      row<CyclicCfg>("cyclic", "Cyclical learning rate",
                     "x = position in the cycle, 0 at the bottom and 1 at the top\n"
                     "eta_t = eta_0 + (max_lr - eta_0) * x * a   (a: 1, 1/2^(cycle-1), gamma^t)",
                     "CyclicLR",
                     "[schedule]\nname = \"cyclic\"\nmax_lr = 0.5\nstep_size_up = 2\n"),
      row<OneCycleCfg>("one-cycle", "One-cycle",
                       "rise from max_lr/div_factor to max_lr over pct_start of the cycle, then\n"
                       "anneal (cos or linear) to max_lr/div_factor/final_div_factor;\n"
                       "momentum moves the other way between max_momentum and base_momentum",
                       "OneCycleLR", "[schedule]\nname = \"one-cycle\"\nmax_lr = 0.4\n"),
      row<LinearCfg>("linear", "Linear ramp",
                     "eta_t = eta_0 * (start_factor + (end_factor - start_factor) * min(t, T)/T)",
                     "LinearLR", "[schedule]\nname = \"linear\"\n"),
      row<ConstantCfg>("sequence", "Sequence of phases",
                       "phase i (a family with its own keys and a length) runs from the end of\n"
                       "phase i-1, with its own t starting at 0",
                       "SequentialLR",
                       "[schedule]\nname = \"sequence\"\n\n[[schedule.phases]]\nname = "
                       "\"constant\"\nlength = 2\n\n[[schedule.phases]]\nname = \"cosine\"\n"),
  };
  return r;
}

const Row& find_row(std::string_view name, std::string_view key, const std::string& where) {
  for (const Row& r : rows())
    if (r.info.name == name) return r;
  const std::vector<std::string> names = schedule_names();
  std::string hint = did_you_mean(name, names);
  if (hint.empty()) hint = fmt::format("choose one of: {}", fmt::join(names, ", "));
  throw ConfigError(fmt::format("{} must be one of {}, got \"{}\"", key, fmt::join(names, " | "),
                                name),
                    where, hint);
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

const std::vector<ScheduleInfo>& schedule_infos() {
  static const std::vector<ScheduleInfo> infos = [] {
    std::vector<ScheduleInfo> out;
    for (const Row& r : rows()) out.push_back(r.info);
    return out;
  }();
  return infos;
}

std::vector<std::string> schedule_names() {
  std::vector<std::string> out;
  for (const Row& r : rows()) out.push_back(r.info.name);
  return out;
}

std::vector<FieldRow> common_schedule_rows() { return describe_fields<CommonCfg>("schedule"); }

bool schedule_has_field(std::string_view name, std::string_view key) {
  if (find_field<CommonCfg>(key)) return true;
  for (const Row& r : rows())
    if (r.info.name == name) return r.spec(key) != nullptr;
  return false;
}

const FieldSpec* any_schedule_field(std::string_view key) {
  if (const Field<CommonCfg>* f = find_field<CommonCfg>(key)) return &f->spec;
  if (const Field<PhaseCfg>* f = find_field<PhaseCfg>(key)) return &f->spec;
  for (const Row& r : rows())
    if (const FieldSpec* s = r.spec(key)) return s;
  return nullptr;
}

std::vector<std::string> schedule_fields(std::string_view name) {
  std::vector<std::string> out = field_names<CommonCfg>();
  for (const Row& r : rows())
    if (r.info.name == name)
      for (const FieldRow& f : r.info.fields) out.push_back(f.key.substr(f.key.find('.') + 1));
  return out;
}

Options resolve_options(const ScheduleConfig& cfg) {
  const Row& row = find_row(cfg.name, "schedule.name", cfg.options.empty() ? "" : cfg.options.items()[0].where);
  Options common, own;
  split(cfg.options, common, own);
  Options out = to_options(options_to<CommonCfg>(common, "schedule", cfg.name));
  const Options family = row.resolve(own, "schedule");
  for (const Option& o : family.items()) out.set(o.key, o.value);
  if (cfg.name == "sequence" && cfg.phases.empty())
    throw ConfigError("schedule.name = \"sequence\" needs [[schedule.phases]]", "schedule",
                      "add [[schedule.phases]] tables, each with name, its keys and length");
  if (cfg.name != "sequence" && !cfg.phases.empty())
    throw ConfigError(fmt::format("[[schedule.phases]] needs schedule.name = \"sequence\", got \"{}\"",
                                  cfg.name),
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
  Options out = row.resolve(phase_own(ph, i, length), key);
  out.set("length", length);
  return out;
}

bool depends_on_run_length(const ScheduleConfig& cfg) {
  Options common, own;
  split(cfg.options, common, own);
  if (options_to<CommonCfg>(common, "schedule", cfg.name).unit == "run") return true;
  if (cfg.name != "sequence") return find_row(cfg.name, "schedule.name", "").uses_run_length(own);
  for (size_t i = 0; i < cfg.phases.size(); ++i) {
    double length = 0;
    const Options o = phase_own(cfg.phases[i], i, length);
    if (length == 0 || find_row(cfg.phases[i].name, "", "").uses_run_length(o)) return true;
  }
  return false;
}

Schedule make_schedule(const ScheduleConfig& cfg, double lr, RunLength run) {
  SCULPT_CHECK(run.steps_per_epoch > 0 && run.total_steps > 0, ConfigError,
               "the run has no steps", "train.epochs", "train for at least one step");
  Options common_opts, own;
  split(cfg.options, common_opts, own);
  const CommonCfg common = options_to<CommonCfg>(common_opts, "schedule", cfg.name);
  const int64_t per_unit = common.unit == "epoch" ? run.steps_per_epoch
                           : common.unit == "run" ? run.total_steps
                                                  : 1;
  const double run_units = static_cast<double>(run.total_steps) / static_cast<double>(per_unit);
  const std::string where = cfg.options.empty() ? "schedule" : cfg.options.items()[0].where;
  if (common.warmup >= run_units)
    throw ConfigError(fmt::format("schedule.warmup = {} {}s is not shorter than the run ({} {}s)",
                                  common.warmup, common.unit, run_units, common.unit),
                      where, "shorten the warmup or train for more epochs");
  Ctx ctx{.lr = lr,
          .length = run_units - common.warmup,
          // the time between two updates of the rate
          .step = static_cast<double>(common.update == "epoch" ? run.steps_per_epoch : 1) /
                  static_cast<double>(per_unit),
          .key = "schedule",
          .where = where};

  std::unique_ptr<Curve> curve;
  if (cfg.name == "sequence") {
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
        throw ConfigError(fmt::format("{} starts at {} {}s, after the run's end ({} {}s)", pc.key,
                                      start + common.warmup, common.unit, run_units, common.unit),
                          ph.where, "shorten the earlier phases or train for more epochs");
      pc.length = length > 0 ? length : ctx.length - start;
      phases.push_back(find_row(ph.name, pc.key + ".name", ph.where).make(o, pc));
      starts.push_back(start);
      start += length;
    }
    curve = std::make_unique<SequenceCurve>(std::move(phases), std::move(starts));
  } else {
    curve = find_row(cfg.name, "schedule.name", where).make(own, ctx);
  }
  if (common.warmup > 0) {
    std::vector<std::unique_ptr<Curve>> two;
    two.push_back(std::make_unique<LinearCurve>(lr, common.warmup_start, 1.0, common.warmup));
    two.push_back(std::move(curve));
    curve = std::make_unique<SequenceCurve>(std::move(two), std::vector<double>{0.0, common.warmup});
  }
  std::optional<PlateauConfig> plateau;
  if (cfg.plateau.enabled) {
    validate_fields(cfg.plateau, "schedule.plateau", where);
    plateau = cfg.plateau;
  }
  return Schedule(std::move(curve), lr, per_unit, run.steps_per_epoch, common.update == "epoch",
                  std::move(plateau));
}

}  // namespace sculpt::sched

// Internal to src/sched: the schedule families' config structs, each with its fields (keys,
// ranges, docs) and how it builds its curve, and the keys common to [schedule]. registry.cpp
// holds one row per family.
#pragma once

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <memory>
#include <string>
#include <vector>

#include "core/error.h"
#include "core/fields.h"
#include "sched/curves.h"

namespace sculpt::sched::detail {

// What a family's curve is built from besides its options.
struct Ctx {
  double lr = 0;      // eta_0
  double length = 0;  // units of the run this curve covers ("total = 0" means all of them)
  double step = 1;    // the time between two updates of the rate, in units
  std::string key;    // "schedule" or "schedule.phases[1]", for messages
  std::string where;  // recipe position
};

// A family whose length key may be 0, "the rest of the run" (total, period), names that key
// kRunLength; its curve then spans length_of() and depends on how long the run is
// (registry.cpp: uses_run_length).
template <class C>
double length_of(const C& o, const Ctx& c) {
  return o.*C::kRunLength > 0 ? o.*C::kRunLength : c.length;
}

[[noreturn]] inline void bad(const Ctx& c, const std::string& field, const std::string& what,
                             const std::string& hint) {
  throw ConfigError(fmt::format("{}.{} {}", c.key, field, what), c.where, hint);
}

// ---- common keys of [schedule] ----

// The choice fields of the families (core/fields.h: Choice).
enum class Unit { kEpoch, kStep, kRun };
inline constexpr Choice<Unit> kUnits[] = {
    {Unit::kEpoch, "epoch"}, {Unit::kStep, "step"}, {Unit::kRun, "run"}};
constexpr std::span<const Choice<Unit>> choices_of(Unit) { return kUnits; }

enum class Update { kStep, kEpoch };
inline constexpr Choice<Update> kUpdates[] = {{Update::kStep, "step"}, {Update::kEpoch, "epoch"}};
constexpr std::span<const Choice<Update>> choices_of(Update) { return kUpdates; }

enum class CyclicMode { kTriangular, kTriangular2, kExpRange };
inline constexpr Choice<CyclicMode> kCyclicModes[] = {{CyclicMode::kTriangular, "triangular"},
                                                      {CyclicMode::kTriangular2, "triangular2"},
                                                      {CyclicMode::kExpRange, "exp_range"}};
constexpr std::span<const Choice<CyclicMode>> choices_of(CyclicMode) { return kCyclicModes; }

enum class Anneal { kCos, kLinear };
inline constexpr Choice<Anneal> kAnneals[] = {{Anneal::kCos, "cos"}, {Anneal::kLinear, "linear"}};
constexpr std::span<const Choice<Anneal>> choices_of(Anneal) { return kAnneals; }

enum class DecayShape { kLinear, kCosine };
inline constexpr Choice<DecayShape> kDecayShapes[] = {{DecayShape::kLinear, "linear"},
                                                      {DecayShape::kCosine, "cosine"}};
constexpr std::span<const Choice<DecayShape>> choices_of(DecayShape) { return kDecayShapes; }

struct CommonCfg {
  Unit unit = Unit::kEpoch;
  Update update = Update::kStep;
  double warmup = 0.0;
  double warmup_start = 0.0;

  static const std::vector<Field<CommonCfg>>& fields() {
    using C = CommonCfg;
    static const std::vector<Field<C>> f = {
        {"unit", &C::unit,
         "what lengths and milestones count: epochs, steps, or fractions of the whole run (0.1 = "
         "a tenth), which scale with train.epochs"},
        {"update", &C::update,
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
};

struct PolynomialCfg {
  double total = 0.0;
  double power = 1.0;
  double end_lr = 0.0;
  static constexpr auto kRunLength = &PolynomialCfg::total;
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
    return std::make_unique<PolynomialCurve>(c.lr, length_of(o, c), o.power, o.end_lr);
  }
};

struct InverseTimeCfg {
  double period = 0.0;
  double beta = 1.0;
  bool staircase = false;
  static constexpr auto kRunLength = &InverseTimeCfg::period;
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
    return std::make_unique<InverseTimeCurve>(c.lr, length_of(o, c), o.beta, o.staircase);
  }
};

struct CosineCfg {
  double total = 0.0;
  double min_lr = 0.0;
  static constexpr auto kRunLength = &CosineCfg::total;
  static const std::vector<Field<CosineCfg>>& fields() {
    static const std::vector<Field<CosineCfg>> f = {
        {"total", &CosineCfg::total, at_least(0),
         "T: units of the half cosine (0: the rest of the run); held at min_lr after"},
        {"min_lr", &CosineCfg::min_lr, at_least(0), "rate at T"},
    };
    return f;
  }
  static std::unique_ptr<Curve> build(const CosineCfg& o, const Ctx& c) {
    return std::make_unique<CosineCurve>(c.lr, length_of(o, c), o.min_lr);
  }
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
};

inline const Range kMomentum = half_open(0, 1);

struct CyclicCfg {
  double max_lr = 0.0;
  double step_size_up = 2.0;
  double step_size_down = 0.0;
  CyclicMode mode = CyclicMode::kTriangular;
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
        {"mode", &C::mode,
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
    const int mode = o.mode == CyclicMode::kTriangular2 ? 1
                     : o.mode == CyclicMode::kExpRange  ? 2
                                                        : 0;
    return std::make_unique<CyclicCurve>(
        CyclicParams{.base_lr = c.lr,
                     .max_lr = o.max_lr,
                     .up = o.step_size_up,
                     .down = o.step_size_down > 0 ? o.step_size_down : o.step_size_up,
                     .mode = mode,
                     .gamma = o.gamma,
                     .cycle_momentum = o.cycle_momentum,
                     .base_momentum = o.base_momentum,
                     .max_momentum = o.max_momentum});
  }
};

struct OneCycleCfg {
  double max_lr = 0.0;
  double total = 0.0;
  double pct_start = 0.3;
  double div_factor = 25.0;
  double final_div_factor = 1e4;
  Anneal anneal = Anneal::kCos;
  bool three_phase = false;
  bool cycle_momentum = true;
  double base_momentum = 0.85;
  double max_momentum = 0.95;
  static constexpr auto kRunLength = &OneCycleCfg::total;
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
        {"anneal", &C::anneal, "shape of each phase"},
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
    const double total = length_of(o, c);
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
                                                          .cosine = o.anneal == Anneal::kCos,
                                                          .three_phase = o.three_phase,
                                                          .cycle_momentum = o.cycle_momentum,
                                                          .base_momentum = o.base_momentum,
                                                          .max_momentum = o.max_momentum});
  }
};

// Warmup-stable-decay: eta_0 for the first (1 - decay) of T, then down to min_lr over the last
// `decay` of it (linear, or a half cosine); the warmup is the common `warmup` key.
struct WsdCfg {
  double total = 0.0;
  double decay = 0.2;
  double min_lr = 0.0;
  DecayShape shape = DecayShape::kLinear;
  static constexpr auto kRunLength = &WsdCfg::total;
  static const std::vector<Field<WsdCfg>>& fields() {
    using C = WsdCfg;
    static const std::vector<Field<C>> f = {
        {"total", &C::total, at_least(0), "T: units of stable + decay (0: the rest of the run)"},
        {"decay", &C::decay, closed(0, 1),
         "share of T at its end that decays (0.2: the last fifth)"},
        {"min_lr", &C::min_lr, at_least(0), "rate at T and after"},
        {"shape", &C::shape, "how the decay falls"},
    };
    return f;
  }
  static std::unique_ptr<Curve> build(const WsdCfg& o, const Ctx& c) {
    const double total = length_of(o, c), d = o.decay * total;
    std::unique_ptr<Curve> tail;
    if (o.shape == DecayShape::kCosine)
      tail = std::make_unique<CosineCurve>(c.lr, d, o.min_lr);
    else
      tail = std::make_unique<LinearCurve>(c.lr, 1.0, c.lr > 0 ? o.min_lr / c.lr : 0.0, d);
    if (d <= 0) return std::make_unique<ConstantCurve>(c.lr);
    if (d >= total) return tail;
    std::vector<std::unique_ptr<Curve>> two;
    two.push_back(std::make_unique<ConstantCurve>(c.lr));
    two.push_back(std::move(tail));
    return std::make_unique<SequenceCurve>(std::move(two), std::vector<double>{0.0, total - d});
  }
};

struct LinearCfg {
  double start_factor = 1.0;
  double end_factor = 0.0;
  double total = 0.0;
  static constexpr auto kRunLength = &LinearCfg::total;
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
    return std::make_unique<LinearCurve>(c.lr, o.start_factor, o.end_factor, length_of(o, c));
  }
};

}  // namespace sculpt::sched::detail

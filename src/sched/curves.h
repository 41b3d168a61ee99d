// The schedule families as curves of t (in the schedule's unit). Each matches the PyTorch
// scheduler named beside it when t counts its scheduler.step() calls; the formulas are closed
// forms (PyTorch mostly iterates), so values agree to rounding. Rates are absolute: `lr` is
// eta_0, the optimizer's base rate.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <utility>
#include <vector>

#include "sched/schedule.h"

namespace sculpt::sched {

// A curve that is a closed form of t alone. F holds eta_0 and the family's constants, in the
// order the curve is constructed with, and gives the rate with at(t).
template <class F>
class ClosedForm final : public Curve {
 public:
  template <class... Args>
  explicit ClosedForm(Args&&... args) : f_{std::forward<Args>(args)...} {}
  double lr(double t) const override { return f_.at(t); }

 private:
  F f_;
};

namespace form {

// eta_0
struct Constant {
  double lr;
  double at(double) const { return lr; }
};

// eta_0 * gamma^floor(t / step_size)   (StepLR)
struct Step {
  double lr, step_size, gamma;
  double at(double t) const;
};

// eta_0 * gamma^(number of milestones <= t)   (MultiStepLR); milestones increasing.
struct MultiStep {
  double lr;
  std::vector<double> milestones;
  double gamma;
  double at(double t) const;
};

// eta_0 * gamma^t   (ExponentialLR)
struct Exponential {
  double lr, gamma;
  double at(double t) const;
};

// (eta_0 - end) * (1 - min(t, T)/T)^power + end   (PolynomialLR when end = 0)
struct Polynomial {
  double lr, total, power, end;
  double at(double t) const;
};

// eta_0 / (1 + beta * t / T), t/T floored when staircase   (TensorFlow's inverse_time_decay)
struct InverseTime {
  double lr, period, beta;
  bool staircase;
  double at(double t) const;
};

// min + (eta_0 - min) * (1 + cos(pi * min(t, T) / T)) / 2   (CosineAnnealingLR up to T; held
// at min after T, where PyTorch would rise again)
struct Cosine {
  double lr, total, min_lr;
  double at(double t) const;
};

// Cosine over periods T_0, T_0*mult, T_0*mult^2, ...   (CosineAnnealingWarmRestarts)
struct CosineRestarts {
  double lr, period, mult, min_lr;
  double at(double t) const;
};

// eta_0 * (start + (end - start) * min(t, T) / T)   (LinearLR)
struct Linear {
  double lr, start, end, total;
  double at(double t) const;
};

}  // namespace form

using ConstantCurve = ClosedForm<form::Constant>;
using StepCurve = ClosedForm<form::Step>;
using MultiStepCurve = ClosedForm<form::MultiStep>;
using ExponentialCurve = ClosedForm<form::Exponential>;
using PolynomialCurve = ClosedForm<form::Polynomial>;
using InverseTimeCurve = ClosedForm<form::InverseTime>;
using CosineCurve = ClosedForm<form::Cosine>;
using CosineRestartsCurve = ClosedForm<form::CosineRestarts>;
using LinearCurve = ClosedForm<form::Linear>;

// Triangular cycles between eta_0 and max_lr (CyclicLR); momentum cycles inversely.
struct CyclicParams {
  double base_lr = 0, max_lr = 0, up = 1, down = 1;
  int mode = 0;  // 0 triangular, 1 triangular2, 2 exp_range
  double gamma = 1.0;
  bool cycle_momentum = false;
  double base_momentum = 0.8, max_momentum = 0.9;
};
class CyclicCurve final : public Curve {
 public:
  explicit CyclicCurve(CyclicParams p) : p_(p) {}
  double lr(double t) const override;
  std::optional<double> momentum(double t) const override;
  bool cycles_momentum() const override { return p_.cycle_momentum; }

 private:
  // The position in the cycle (0 at the base, 1 at the top) and the amplitude factor.
  void place(double t, double& scale, double& amplitude) const;
  CyclicParams p_;
};

// One cycle (OneCycleLR): warm up from max_lr/div to max_lr over pct_start of the steps, then
// anneal to max_lr/div/final_div; momentum goes max -> base -> max. `step` is the time between
// two updates of the rate, in units (PyTorch ends its phases one update early: at pct*T - 1 and
// T - 1).
struct OneCycleParams {
  double max_lr = 0, total = 1, pct_start = 0.3, div = 25, final_div = 1e4, step = 1;
  bool cosine = true, three_phase = false, cycle_momentum = true;
  double base_momentum = 0.85, max_momentum = 0.95;
};
class OneCycleCurve final : public Curve {
 public:
  explicit OneCycleCurve(OneCycleParams p);
  double lr(double t) const override;
  std::optional<double> momentum(double t) const override;
  bool cycles_momentum() const override { return p_.cycle_momentum; }

 private:
  struct Phase {
    double end, lr0, lr1, m0, m1;
  };
  // The phase t lies in and the fraction of it done.
  const Phase& locate(double t, double& pct, double& start) const;
  double anneal(double a, double b, double pct) const;
  OneCycleParams p_;
  std::vector<Phase> phases_;
};

// Phase i from its start s_i on, as phase_i(t - s_i)   (SequentialLR); warmup is a sequence of
// a linear ramp and the family.
class SequenceCurve final : public Curve {
 public:
  // starts[0] == 0, increasing; one start per phase.
  SequenceCurve(std::vector<std::unique_ptr<Curve>> phases, std::vector<double> starts)
      : phases_(std::move(phases)), starts_(std::move(starts)) {}
  double lr(double t) const override;
  std::optional<double> momentum(double t) const override;
  bool cycles_momentum() const override;

 private:
  size_t index(double t) const;
  std::vector<std::unique_ptr<Curve>> phases_;
  std::vector<double> starts_;
};

}  // namespace sculpt::sched

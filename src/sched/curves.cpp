// Closed forms of the schedule families (see curves.h for the PyTorch scheduler each matches).
#include "sched/curves.h"

#include <algorithm>
#include <cmath>
#include <numbers>

namespace sculpt::sched {

double form::Step::at(double t) const { return lr * std::pow(gamma, std::floor(t / step_size)); }

double form::MultiStep::at(double t) const {
  const auto passed =
      std::upper_bound(milestones.begin(), milestones.end(), t) - milestones.begin();
  return lr * std::pow(gamma, static_cast<double>(passed));
}

double form::Exponential::at(double t) const { return lr * std::pow(gamma, t); }

double form::Polynomial::at(double t) const {
  const double left = 1.0 - std::min(t, total) / total;
  return (lr - end) * std::pow(left, power) + end;
}

double form::InverseTime::at(double t) const {
  double x = t / period;
  if (staircase) x = std::floor(x);
  return lr / (1.0 + beta * x);
}

double form::Cosine::at(double t) const {
  const double x = std::min(t, total) / total;
  return min_lr + (lr - min_lr) * (1.0 + std::cos(std::numbers::pi * x)) / 2.0;
}

double form::CosineRestarts::at(double t) const {
  double start = 0.0, length = period;
  if (mult == 1.0) {
    start = std::floor(t / period) * period;
  } else {
    while (t >= start + length) {  // logarithmically many periods: lengths grow by mult
      start += length;
      length *= mult;
    }
  }
  return min_lr + (lr - min_lr) * (1.0 + std::cos(std::numbers::pi * (t - start) / length)) / 2.0;
}

void CyclicCurve::place(double t, double& scale, double& amplitude) const {
  const double size = p_.up + p_.down, ratio = p_.up / size;
  const double cycle = std::floor(1.0 + t / size);
  const double x = 1.0 + t / size - cycle;
  scale = x <= ratio ? x / ratio : (x - 1.0) / (ratio - 1.0);
  switch (p_.mode) {
    case 1:
      amplitude = 1.0 / std::pow(2.0, cycle - 1.0);
      break;
    case 2:
      amplitude = std::pow(p_.gamma, t);
      break;
    default:
      amplitude = 1.0;
  }
}

double CyclicCurve::lr(double t) const {
  double scale = 0, amplitude = 0;
  place(t, scale, amplitude);
  return p_.base_lr + (p_.max_lr - p_.base_lr) * scale * amplitude;
}

std::optional<double> CyclicCurve::momentum(double t) const {
  if (!p_.cycle_momentum) return std::nullopt;
  double scale = 0, amplitude = 0;
  place(t, scale, amplitude);
  return p_.max_momentum - (p_.max_momentum - p_.base_momentum) * scale * amplitude;
}

OneCycleCurve::OneCycleCurve(OneCycleParams p) : p_(p) {
  const double initial = p_.max_lr / p_.div, last = initial / p_.final_div;
  const double up_end = p_.pct_start * p_.total - p_.step, end = p_.total - p_.step;
  const double lo = p_.base_momentum, hi = p_.max_momentum;
  if (p_.three_phase)
    phases_ = {{up_end, initial, p_.max_lr, hi, lo},
               {2.0 * p_.pct_start * p_.total - 2.0 * p_.step, p_.max_lr, initial, lo, hi},
               {end, initial, last, hi, hi}};
  else
    phases_ = {{up_end, initial, p_.max_lr, hi, lo}, {end, p_.max_lr, last, lo, hi}};
}

const OneCycleCurve::Phase& OneCycleCurve::locate(double t, double& pct, double& start) const {
  start = 0.0;
  for (size_t i = 0; i < phases_.size(); ++i) {
    const Phase& ph = phases_[i];
    if (t <= ph.end || i + 1 == phases_.size()) {
      pct = std::min((t - start) / (ph.end - start), 1.0);  // held after the last step
      return ph;
    }
    start = ph.end;
  }
  return phases_.back();  // not reached: the last phase always matches
}

double OneCycleCurve::anneal(double a, double b, double pct) const {
  if (p_.cosine) return b + (a - b) / 2.0 * (std::cos(std::numbers::pi * pct) + 1.0);
  return (b - a) * pct + a;
}

double OneCycleCurve::lr(double t) const {
  double pct = 0, start = 0;
  const Phase& ph = locate(t, pct, start);
  return anneal(ph.lr0, ph.lr1, pct);
}

std::optional<double> OneCycleCurve::momentum(double t) const {
  if (!p_.cycle_momentum) return std::nullopt;
  double pct = 0, start = 0;
  const Phase& ph = locate(t, pct, start);
  return anneal(ph.m0, ph.m1, pct);
}

double form::Linear::at(double t) const {
  return lr * (start + (end - start) * std::min(t, total) / total);
}

size_t SequenceCurve::index(double t) const {
  return static_cast<size_t>(std::upper_bound(starts_.begin(), starts_.end(), t) -
                             starts_.begin()) -
         1;
}

double SequenceCurve::lr(double t) const {
  const size_t i = index(t);
  return phases_[i]->lr(t - starts_[i]);
}

std::optional<double> SequenceCurve::momentum(double t) const {
  const size_t i = index(t);
  return phases_[i]->momentum(t - starts_[i]);
}

bool SequenceCurve::cycles_momentum() const {
  return std::any_of(phases_.begin(), phases_.end(),
                     [](const auto& p) { return p->cycles_momentum(); });
}

}  // namespace sculpt::sched

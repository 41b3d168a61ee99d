// Axis ticks: steps of 1, 2 or 5 times a power of ten, or whole decades on a log scale.
#include "report/svg_axis.h"

#include <algorithm>
#include <cmath>
#include <vector>

#include "report/svg_plot.h"

namespace sculpt::report {

namespace detail {

namespace {

constexpr double kEps = 1e-9;      // slack when a range edge falls on a tick
constexpr size_t kMaxTicks = 100;  // guards the loops against absurd ranges
// 10^e, correctly rounded for |e| <= 22 (the division keeps 1e-7 exact to the last bit).
double pow10(int e) { return e >= 0 ? std::pow(10.0, e) : 1.0 / std::pow(10.0, -e); }

// A tick step m x 10^e with m in {1, 2, 5}; tick k is computed as k*m scaled by a power of ten
// so that 3 x 0.2 prints and compares as 0.6.
struct Step {
  double m = 1;
  int e = 0;
  double at(double k) const {
    const double v = e >= 0 ? k * m * pow10(e) : k * m / pow10(-e);
    return v == 0 ? 0.0 : v;  // no "-0"
  }
  double value() const { return at(1); }
};

Step nice_step(double range, int target) {
  const double raw = range / std::max(target, 1);
  const int e = static_cast<int>(std::floor(std::log10(raw)));
  const double norm = raw / pow10(e);
  if (norm <= 1 + kEps) return {1, e};
  if (norm <= 2 + kEps) return {2, e};
  if (norm <= 5 + kEps) return {5, e};
  return {1, e + 1};
}

std::vector<double> ticks_with_step(double lo, double hi, Step s) {
  std::vector<double> ticks;
  const double step = s.value();
  if (!(step > 0) || !std::isfinite(step)) return ticks;
  const double k0 = std::ceil(lo / step - kEps), k1 = std::floor(hi / step + kEps);
  for (double k = k0; k <= k1 && ticks.size() < kMaxTicks; ++k) ticks.push_back(s.at(k));
  return ticks;
}

// The domain covering the data range [lo, hi], widened to whole ticks.
}  // namespace

Axis make_axis(double lo, double hi, bool log, int target, double px0, double px1, bool integer) {
  Axis a{.log = log, .px0 = px0, .px1 = px1, .ticks = {}};
  if (log) {
    a.lo = pow10(static_cast<int>(std::floor(std::log10(lo) + kEps)));
    a.hi = pow10(static_cast<int>(std::ceil(std::log10(hi) - kEps)));
    if (a.lo >= a.hi) {  // a single decade value: one decade either side
      a.lo /= 10;
      a.hi *= 10;
    }
    a.ticks = decade_ticks(a.lo, a.hi);
    return a;
  }
  if (hi - lo <= kEps * std::max(std::abs(lo), std::abs(hi))) {  // one value: centre it
    const double pad = lo == 0 ? 1.0 : std::abs(lo) * 0.1;
    lo -= pad, hi += pad;
  }
  Step s = nice_step(hi - lo, target);
  if (integer && s.e < 0) s = {1, 0};  // no tick between two whole numbers
  a.lo = s.at(std::floor(lo / s.value() + kEps));
  a.hi = s.at(std::ceil(hi / s.value() - kEps));
  a.ticks = ticks_with_step(a.lo, a.hi, s);
  return a;
}

}  // namespace detail

using detail::kEps;
using detail::nice_step;
using detail::pow10;
using detail::ticks_with_step;

std::vector<double> nice_ticks(double lo, double hi, int target) {
  if (!std::isfinite(lo) || !std::isfinite(hi) || hi < lo) return {};
  if (hi == lo) return {lo};
  return ticks_with_step(lo, hi, nice_step(hi - lo, target));
}

std::vector<double> decade_ticks(double lo, double hi) {
  std::vector<double> ticks;
  if (!(lo > 0) || !(hi >= lo) || !std::isfinite(hi)) return ticks;
  const int e0 = static_cast<int>(std::ceil(std::log10(lo) - kEps));
  const int e1 = static_cast<int>(std::floor(std::log10(hi) + kEps));
  const int n = e1 - e0 + 1;
  const int stride = n > 12 ? (n + 9) / 10 : 1;
  // Start on a multiple of the stride so that 1 (10^0) stays a tick when it is in range.
  const int first = static_cast<int>(std::ceil(double(e0) / stride)) * stride;
  for (int e = first; e <= e1; e += stride) ticks.push_back(pow10(e));
  return ticks;
}

}  // namespace sculpt::report

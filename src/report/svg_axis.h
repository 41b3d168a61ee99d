// Internal to src/report: a plot axis, its domain widened to whole ticks on a linear or
// decade scale (svg_axis.cpp), and the pixel of a value.
#pragma once

#include <cmath>
#include <vector>

namespace sculpt::report::detail {

struct Axis {
  bool log = false;
  double lo = 0, hi = 1;    // domain in data units
  double px0 = 0, px1 = 1;  // pixels of lo and hi
  std::vector<double> ticks;

  double t(double v) const { return log ? std::log10(v) : v; }
  double map(double v) const { return px0 + (t(v) - t(lo)) / (t(hi) - t(lo)) * (px1 - px0); }
};

// The domain covering the data range [lo, hi], widened to whole ticks (about `target` of
// them; with `integer` none between two whole numbers), mapped to pixels px0..px1.
Axis make_axis(double lo, double hi, bool log, int target, double px0, double px1,
               bool integer = false);

}  // namespace sculpt::report::detail

// A small standalone SVG line-chart writer (no dependencies): lines over linear or log axes with
// "nice" ticks, a legend, vertical markers. Used for learning-rate curves and run reports; the
// output is deterministic (fixed number formatting) so it can be compared in tests.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace sculpt::report {

struct Series {
  std::string name{};
  std::vector<double> x{}, y{};  // same length; x empty means 0, 1, 2, ...
  std::string color{};           // any SVG color; "" takes the palette entry for the series' index
  bool dashed = false;
  bool dots = false;  // also a dot per point, with its values as a hover tooltip
};

// A vertical line across the plot with a label at its top (e.g. a suggested lr).
struct Marker {
  double x = 0.0;
  std::string label{};
};

// A horizontal line across the plot with a label at its right end (e.g. a clip threshold).
struct Threshold {
  double y = 0.0;
  std::string label{};
};

struct Plot {
  std::string id{};  // set: the root is <svg class="chart" data-chart="id"> (run reports)
  std::string title{}, x_label{}, y_label{};
  bool log_x = false, log_y = false;
  bool x_integer = false;  // x ticks on whole numbers only (epochs)
  std::optional<double> y_min{}, y_max{};  // the y range covers these too (e.g. 0 and 100 %)
  int width = 640, height = 360;  // pixels, at least 200 x 120
  std::vector<Series> series{};
  std::vector<Marker> markers{};
  std::vector<Threshold> thresholds{};
};

// The complete SVG document. Requires: each series' x is empty or as long as its y, and the size
// is at least 200 x 120 (ConfigError otherwise). Guarantees: non-finite points (and non-positive
// ones on a log axis) are skipped and leave a gap; a series with no such point is omitted (also
// from the legend); with no point at all the chart says "no data". Markers outside the data's x
// range widen it, thresholds, y_min and y_max its y range; non-finite ones are skipped. Each drawn series is a
// <g class="series" data-name="..." data-points="N"> (N: its drawable points) with a <title>.
std::string render_svg(const Plot& p);
// The same <svg> element without the XML declaration, to be placed inside an HTML page.
std::string render_svg_element(const Plot& p);

// render_svg written to `path`. Throws IoError naming the path when it cannot be written.
void write_svg(const Plot& p, const std::string& path);

// The building blocks, exposed for tests and for other text reports.
// Ticks at multiples of a 1, 2 or 5 x 10^k step inside [lo, hi], about `target` of them.
std::vector<double> nice_ticks(double lo, double hi, int target = 5);
// Powers of ten inside [lo, hi] (lo > 0); every n-th decade when there would be more than 12.
std::vector<double> decade_ticks(double lo, double hi);
// A tick label: up to 6 significant digits, no trailing zeros, short exponents ("1e-7", "0.25").
std::string format_tick(double v);
// Text safe inside an element or a quoted attribute: & < > " ' as entities.
std::string escape_xml(std::string_view s);

}  // namespace sculpt::report

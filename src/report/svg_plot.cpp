// SVG line charts: data ranges become axis domains widened to whole ticks (a 1/2/5 x 10^k step on
// linear axes, whole decades on log axes), series become one <path> each with a subpath per run
// of drawable points, and every number is printed with a fixed format.
#include "report/svg_plot.h"

#include <fmt/format.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <iterator>
#include <limits>

#include "core/error.h"
#include "io/atomic_file.h"
#include "report/svg_axis.h"

namespace sculpt::report {

using detail::Axis;
using detail::make_axis;

namespace {

// Tableau 10: distinguishable, and readable on white.
constexpr const char* kPalette[] = {"#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd",
                                    "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf"};

using Point = std::pair<double, double>;
using Run = std::vector<Point>;

struct Drawn {
  size_t index;  // in Plot::series, for the palette
  const Series* s;
  std::vector<Run> runs;
};

std::string px(double v) { return fmt::format("{:.2f}", v); }

}  // namespace

std::string format_tick(double v) {
  if (v == 0) return "0";
  std::string s = fmt::format("{:.6g}", v);
  const size_t e = s.find('e');
  if (e == std::string::npos) return s;
  return fmt::format("{}e{}", s.substr(0, e), std::stoi(s.substr(e + 1)));  // 1e-07 -> 1e-7
}

std::string escape_xml(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (const char c : s) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += "&apos;";
        break;
      default:
        // XML 1.0 forbids most control characters even as entities.
        out += (static_cast<unsigned char>(c) < 0x20 && c != '\t' && c != '\n') ? ' ' : c;
    }
  }
  return out;
}

std::string render_svg(const Plot& p) {
  return "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n" + render_svg_element(p);
}

namespace {

const char* kDash = " stroke-dasharray=\"6 4\"";

bool drawable_x(const Plot& p, double v) { return std::isfinite(v) && (!p.log_x || v > 0); }
bool drawable_y(const Plot& p, double v) { return std::isfinite(v) && (!p.log_y || v > 0); }

// The runs of drawable points of every series, and the data range (markers, thresholds and the
// fixed y bounds included when anything is drawn).
struct Collected {
  std::vector<Drawn> drawn;
  double xlo, xhi, ylo, yhi;
};

Collected collect(const Plot& p) {
  const auto ok_x = [&](double v) { return drawable_x(p, v); };
  const auto ok_y = [&](double v) { return drawable_y(p, v); };
  constexpr double kInf = std::numeric_limits<double>::infinity();
  double xlo = kInf, xhi = -kInf, ylo = kInf, yhi = -kInf;
  std::vector<Drawn> drawn;
  for (size_t i = 0; i < p.series.size(); ++i) {
    const Series& s = p.series[i];
    Drawn d{i, &s, {}};
    bool in_run = false;
    for (size_t j = 0; j < s.y.size(); ++j) {
      const double x = s.x.empty() ? double(j) : s.x[j], y = s.y[j];
      if (!ok_x(x) || !ok_y(y)) {
        in_run = false;
        continue;
      }
      if (!in_run) d.runs.emplace_back();
      in_run = true;
      d.runs.back().emplace_back(x, y);
      xlo = std::min(xlo, x), xhi = std::max(xhi, x);
      ylo = std::min(ylo, y), yhi = std::max(yhi, y);
    }
    if (!d.runs.empty()) drawn.push_back(std::move(d));
  }
  if (!drawn.empty()) {
    for (const Marker& m : p.markers)
      if (ok_x(m.x)) xlo = std::min(xlo, m.x), xhi = std::max(xhi, m.x);
    for (const Threshold& t : p.thresholds)
      if (ok_y(t.y)) ylo = std::min(ylo, t.y), yhi = std::max(yhi, t.y);
    for (const std::optional<double>& y : {p.y_min, p.y_max})
      if (y && ok_y(*y)) ylo = std::min(ylo, *y), yhi = std::max(yhi, *y);
  }

  return {std::move(drawn), xlo, xhi, ylo, yhi};
}

// The plot area in pixels, its axes and the output being written.
struct Canvas {
  const Plot& p;
  double left, right, top, bottom;
  Axis ax, ay;
  std::string& out;
};

std::string color_of(const Drawn& d) {
  return d.s->color.empty() ? std::string(kPalette[d.index % std::size(kPalette)])
                            : escape_xml(d.s->color);
}

void draw_grid(const Canvas& c, const std::string& frame) {
  const Axis &ax = c.ax, &ay = c.ay;
  const double left = c.left, right = c.right, top = c.top, bottom = c.bottom;
  std::string& out = c.out;
  auto o = std::back_inserter(out);
  out += "<g stroke=\"#e6e6e6\">\n";
  for (double t : ax.ticks)
    fmt::format_to(o, "<line x1=\"{0}\" y1=\"{1}\" x2=\"{0}\" y2=\"{2}\"/>\n", px(ax.map(t)),
                   px(top), px(bottom));
  for (double t : ay.ticks)
    fmt::format_to(o, "<line x1=\"{1}\" y1=\"{0}\" x2=\"{2}\" y2=\"{0}\"/>\n", px(ay.map(t)),
                   px(left), px(right));
  out += "</g>\n<g fill=\"#333\" font-size=\"11\">\n";
  for (double t : ax.ticks)
    fmt::format_to(o, "<text x=\"{}\" y=\"{}\" text-anchor=\"middle\">{}</text>\n", px(ax.map(t)),
                   px(bottom + 16), format_tick(t));
  for (double t : ay.ticks)
    fmt::format_to(o, "<text x=\"{}\" y=\"{}\" text-anchor=\"end\">{}</text>\n", px(left - 6),
                   px(ay.map(t) + 4), format_tick(t));
  out += "</g>\n" + frame;
}

// One path with a subpath per run of two or more points; lone points as dots.
void draw_series(const Canvas& c, const std::vector<Drawn>& drawn) {
  const Axis &ax = c.ax, &ay = c.ay;
  auto o = std::back_inserter(c.out);
  for (const Drawn& d : drawn) {
    size_t points = 0;
    for (const Run& r : d.runs) points += r.size();
    fmt::format_to(o,
                   "<g class=\"series\" data-name=\"{0}\" data-points=\"{1}\"><title>{0} ({1} "
                   "points)</title>\n",
                   escape_xml(d.s->name), points);
    std::string path;
    for (const Run& r : d.runs) {
      if (r.size() < 2) continue;
      for (size_t j = 0; j < r.size(); ++j)
        fmt::format_to(std::back_inserter(path), "{}{} {} ", j == 0 ? 'M' : 'L',
                       px(ax.map(r[j].first)), px(ay.map(r[j].second)));
    }
    if (!path.empty()) {
      path.pop_back();
      fmt::format_to(o,
                     "<path d=\"{}\" fill=\"none\" stroke=\"{}\" stroke-width=\"1.5\" "
                     "stroke-linejoin=\"round\"{}/>\n",
                     path, color_of(d), d.s->dashed ? kDash : "");
    }
    for (const Run& r : d.runs)
      for (const Point& pt : r)
        if (r.size() == 1 || d.s->dots)
          fmt::format_to(o, "<circle cx=\"{}\" cy=\"{}\" r=\"{}\" fill=\"{}\">{}</circle>\n",
                         px(ax.map(pt.first)), px(ay.map(pt.second)), d.s->dots ? "3" : "2",
                         color_of(d),
                         d.s->dots ? fmt::format("<title>{}: {}, {}</title>", escape_xml(d.s->name),
                                                 format_tick(pt.first), format_tick(pt.second))
                                   : "");
    c.out += "</g>\n";
  }
}

// Thresholds: a dashed red horizontal line, the label above its left end (the legend is on the
// right). Markers: a dashed vertical line, the label inside the plot on the side with room.
void draw_lines(const Canvas& c) {
  const Plot& p = c.p;
  const double left = c.left, right = c.right, top = c.top, bottom = c.bottom;
  const Axis &ax = c.ax, &ay = c.ay;
  const auto ok_x = [&](double v) { return drawable_x(p, v); };
  const auto ok_y = [&](double v) { return drawable_y(p, v); };
  auto o = std::back_inserter(c.out);
  for (const Threshold& t : p.thresholds) {
    if (!ok_y(t.y)) continue;
    const double y = ay.map(t.y);
    fmt::format_to(o,
                   "<g class=\"threshold\"><line x1=\"{0}\" y1=\"{2}\" x2=\"{1}\" y2=\"{2}\" "
                   "stroke=\"#d62728\" stroke-dasharray=\"6 3\"/><text x=\"{3}\" y=\"{4}\" "
                   "font-size=\"11\" fill=\"#d62728\">{5}</text></g>\n",
                   px(left), px(right), px(y), px(left + 4), px(y - 4), escape_xml(t.label));
  }

  for (const Marker& m : p.markers) {
    if (!ok_x(m.x)) continue;
    const double x = ax.map(m.x);
    const bool flip = x > left + 0.75 * (right - left);
    fmt::format_to(o,
                   "<g class=\"marker\"><line x1=\"{0}\" y1=\"{1}\" x2=\"{0}\" y2=\"{2}\" "
                   "stroke=\"#666\" stroke-dasharray=\"3 3\"/><text x=\"{3}\" y=\"{4}\" "
                   "text-anchor=\"{5}\" font-size=\"11\" fill=\"#444\">{6}</text></g>\n",
                   px(x), px(top), px(bottom), px(flip ? x - 4 : x + 4), px(top + 12),
                   flip ? "end" : "start", escape_xml(m.label));
  }
}

// The legend in the top right corner, when there is more than one line to tell apart.
void draw_legend(const Canvas& c, const std::vector<Drawn>& drawn) {
  const double right = c.right, top = c.top;
  std::string& out = c.out;
  auto o = std::back_inserter(out);
  if (drawn.size() > 1) {
    std::vector<std::string> names;
    size_t longest = 0;
    for (const Drawn& d : drawn) {
      names.push_back(d.s->name.empty() ? fmt::format("series {}", d.index + 1) : d.s->name);
      longest = std::max(longest, names.back().size());
    }
    const double bw = 40 + 6.5 * double(longest), bh = 18.0 * double(drawn.size()) + 6;
    const double bx = right - 8 - bw, by = top + 8;
    fmt::format_to(o,
                   "<g class=\"legend\" font-size=\"11\">\n<rect x=\"{}\" y=\"{}\" width=\"{}\" "
                   "height=\"{}\" fill=\"white\" fill-opacity=\"0.85\" stroke=\"#ccc\"/>\n",
                   px(bx), px(by), px(bw), px(bh));
    for (size_t i = 0; i < drawn.size(); ++i) {
      const double cy = by + 12 + 18.0 * double(i);
      fmt::format_to(o,
                     "<line x1=\"{0}\" y1=\"{2}\" x2=\"{1}\" y2=\"{2}\" stroke=\"{3}\" "
                     "stroke-width=\"2\"{4}/><text x=\"{5}\" y=\"{6}\">{7}</text>\n",
                     px(bx + 8), px(bx + 30), px(cy), color_of(drawn[i]),
                     drawn[i].s->dashed ? kDash : "", px(bx + 36), px(cy + 4),
                     escape_xml(names[i]));
    }
    out += "</g>\n";
  }
}

}  // namespace

std::string render_svg_element(const Plot& p) {
  SCULPT_CHECK(p.width >= 200 && p.height >= 120, ConfigError,
               fmt::format("plot size must be at least 200 x 120, got {} x {}", p.width, p.height));
  for (const Series& s : p.series)
    SCULPT_CHECK(s.x.empty() || s.x.size() == s.y.size(), ConfigError,
                 fmt::format("plot series \"{}\" has {} x values and {} y values", s.name,
                             s.x.size(), s.y.size()));
  const Collected col = collect(p);
  const std::vector<Drawn>& drawn = col.drawn;
  const int w = p.width, h = p.height;
  const double left = 72, right = w - 16.0, top = p.title.empty() ? 16.0 : 36.0,
               bottom = h - (p.x_label.empty() ? 30.0 : 46.0);
  std::string out;
  auto o = std::back_inserter(out);
  fmt::format_to(o,
                 "<svg xmlns=\"http://www.w3.org/2000/svg\"{2} width=\"{0}\" height=\"{1}\" "
                 "viewBox=\"0 0 {0} {1}\" font-family=\"sans-serif\" font-size=\"12\">\n"
                 "<rect width=\"{0}\" height=\"{1}\" fill=\"white\"/>\n",
                 w, h,
                 p.id.empty()
                     ? std::string()
                     : fmt::format(" class=\"chart\" data-chart=\"{}\"", escape_xml(p.id)));
  if (!p.title.empty())
    fmt::format_to(o,
                   "<text x=\"{}\" y=\"22\" text-anchor=\"middle\" font-size=\"14\" "
                   "font-weight=\"bold\">{}</text>\n",
                   px(w / 2.0), escape_xml(p.title));
  if (!p.x_label.empty())
    fmt::format_to(o, "<text x=\"{}\" y=\"{}\" text-anchor=\"middle\">{}</text>\n",
                   px((left + right) / 2), px(h - 10.0), escape_xml(p.x_label));
  if (!p.y_label.empty())
    fmt::format_to(o,
                   "<text transform=\"translate(18 {}) rotate(-90)\" "
                   "text-anchor=\"middle\">{}</text>\n",
                   px((top + bottom) / 2), escape_xml(p.y_label));
  const std::string frame = fmt::format(
      "<rect x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\" fill=\"none\" stroke=\"#444\"/>\n",
      px(left), px(top), px(right - left), px(bottom - top));
  if (drawn.empty()) {
    out += frame;
    fmt::format_to(o,
                   "<text x=\"{}\" y=\"{}\" text-anchor=\"middle\" fill=\"#888\">no data</text>\n",
                   px((left + right) / 2), px((top + bottom) / 2));
    out += "</svg>\n";
    return out;
  }

  const int x_target = std::max(2, static_cast<int>((right - left) / 80));
  const int y_target = std::max(2, static_cast<int>((bottom - top) / 45));
  const Axis ax = make_axis(col.xlo, col.xhi, p.log_x, x_target, left, right, p.x_integer);
  const Axis ay = make_axis(col.ylo, col.yhi, p.log_y, y_target, bottom, top);
  const Canvas c{p, left, right, top, bottom, ax, ay, out};
  draw_grid(c, frame);
  draw_series(c, drawn);
  draw_lines(c);
  draw_legend(c, drawn);
  out += "</svg>\n";
  return out;
}

void write_svg(const Plot& p, const std::string& path) {
  io::write_file_atomic(path, {render_svg(p)}, "plot");
}

}  // namespace sculpt::report

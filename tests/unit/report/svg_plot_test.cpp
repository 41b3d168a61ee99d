// SVG line charts: ticks, tick labels, escaping, well-formed output, gaps, omitted series,
// markers, log axes, and the error paths of render_svg and write_svg.
#include "report/svg_plot.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cctype>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "core/error.h"

namespace sculpt::report {
namespace {

namespace fs = std::filesystem;
const double kNaN = std::nan("");

// Empty when `s` is well formed in the subset of XML the writer uses (declaration, elements,
// double-quoted attributes, text, the five named entities); otherwise what is wrong.
std::string xml_problem(const std::string& s) {
  const auto entity_ok = [&](size_t at) {
    for (const char* e : {"&amp;", "&lt;", "&gt;", "&quot;", "&apos;"})
      if (s.compare(at, std::strlen(e), e) == 0) return true;
    return false;
  };
  std::vector<std::string> open;
  bool root_seen = false;
  size_t i = 0;
  if (s.rfind("<?xml", 0) == 0) i = s.find("?>") + 2;
  while (i < s.size()) {
    if (s[i] != '<') {
      if (open.empty() && !std::isspace(static_cast<unsigned char>(s[i])))
        return "text outside the root at " + std::to_string(i);
      if (s[i] == '>') return "raw > in text at " + std::to_string(i);
      if (s[i] == '&' && !entity_ok(i)) return "bad entity at " + std::to_string(i);
      ++i;
      continue;
    }
    const size_t end = s.find('>', i);
    if (end == std::string::npos) return "unterminated tag at " + std::to_string(i);
    std::string tag = s.substr(i + 1, end - i - 1);
    if (!tag.empty() && tag[0] == '/') {
      if (open.empty() || open.back() != tag.substr(1))
        return "mismatched </" + tag.substr(1) + ">";
      open.pop_back();
      i = end + 1;
      continue;
    }
    const bool self_closing = !tag.empty() && tag.back() == '/';
    if (self_closing) tag.pop_back();
    size_t j = 0;
    while (j < tag.size() && (std::isalnum(static_cast<unsigned char>(tag[j])) || tag[j] == '-'))
      ++j;
    const std::string name = tag.substr(0, j);
    if (name.empty()) return "tag without a name at " + std::to_string(i);
    while (j < tag.size()) {  // attributes: name="value"
      if (tag[j] == ' ') {
        ++j;
        continue;
      }
      const size_t eq = tag.find("=\"", j);
      if (eq == std::string::npos) return "attribute without =\" in <" + name + ">";
      const size_t close = tag.find('"', eq + 2);
      if (close == std::string::npos) return "unterminated attribute in <" + name + ">";
      for (size_t k = eq + 2; k < close; ++k) {
        if (tag[k] == '<') return "< inside an attribute of <" + name + ">";
        if (tag[k] == '&' && !entity_ok(i + 1 + k)) return "bad entity in <" + name + ">";
      }
      j = close + 1;
    }
    if (open.empty() && root_seen) return "second root element <" + name + ">";
    root_seen = true;
    if (!self_closing) open.push_back(name);
    i = end + 1;
  }
  if (!open.empty()) return "unclosed <" + open.back() + ">";
  if (!root_seen) return "no root element";
  return "";
}

using Subpath = std::vector<std::pair<double, double>>;

// Every <path d="..."> as its subpaths ("M x y L x y ... M ...").
std::vector<std::vector<Subpath>> paths(const std::string& svg) {
  std::vector<std::vector<Subpath>> out;
  const std::string key = "<path d=\"";
  for (size_t at = svg.find(key); at != std::string::npos; at = svg.find(key, at + 1)) {
    const size_t from = at + key.size();
    std::istringstream d(svg.substr(from, svg.find('"', from) - from));
    std::vector<Subpath> subpaths;
    for (std::string xs, ys; d >> xs >> ys;) {
      if (xs[0] == 'M') subpaths.emplace_back();
      EXPECT_TRUE(xs[0] == 'M' || xs[0] == 'L') << xs;
      if (subpaths.empty()) break;
      subpaths.back().emplace_back(std::stod(xs.substr(1)), std::stod(ys));
    }
    out.push_back(std::move(subpaths));
  }
  return out;
}

size_t count(const std::string& s, const std::string& what) {
  size_t n = 0;
  for (size_t at = s.find(what); at != std::string::npos; at = s.find(what, at + 1)) ++n;
  return n;
}

Series line(std::string name, std::vector<double> x, std::vector<double> y) {
  return Series{.name = std::move(name), .x = std::move(x), .y = std::move(y)};
}

TEST(SvgPlot, NiceTicksUseOneTwoFiveSteps) {
  EXPECT_EQ(nice_ticks(0, 0.97, 5), (std::vector<double>{0, 0.2, 0.4, 0.6, 0.8}));
  EXPECT_EQ(nice_ticks(0, 100, 5), (std::vector<double>{0, 20, 40, 60, 80, 100}));
  EXPECT_EQ(nice_ticks(-1, 1, 4), (std::vector<double>{-1, -0.5, 0, 0.5, 1}));
  EXPECT_EQ(nice_ticks(1e-4, 9e-4, 4), (std::vector<double>{2e-4, 4e-4, 6e-4, 8e-4}));
  EXPECT_EQ(nice_ticks(0.13, 0.17, 4), (std::vector<double>{0.13, 0.14, 0.15, 0.16, 0.17}));
  EXPECT_EQ(nice_ticks(3, 3), std::vector<double>{3});
  EXPECT_TRUE(nice_ticks(1, 0).empty());
  EXPECT_TRUE(nice_ticks(0, kNaN).empty());
  for (double hi : {0.003, 7.0, 42.0, 1234.5, 9e9}) {
    const std::vector<double> t = nice_ticks(0, hi, 5);
    ASSERT_GE(t.size(), 3u) << hi;
    ASSERT_LE(t.size(), 11u) << hi;
    const double step = t[1] - t[0];
    const double mantissa = step / std::pow(10.0, std::floor(std::log10(step) + 1e-9));
    EXPECT_TRUE(std::abs(mantissa - 1) < 1e-6 || std::abs(mantissa - 2) < 1e-6 ||
                std::abs(mantissa - 5) < 1e-6)
        << "hi " << hi << " step " << step;
  }
}

TEST(SvgPlot, DecadeTicksCoverLogRanges) {
  const std::vector<double> t = decade_ticks(1e-7, 10);
  ASSERT_EQ(t.size(), 9u);
  std::vector<std::string> labels;
  for (double v : t) labels.push_back(format_tick(v));
  EXPECT_EQ(labels, (std::vector<std::string>{"1e-7", "1e-6", "1e-5", "0.0001", "0.001", "0.01",
                                              "0.1", "1", "10"}));
  EXPECT_EQ(decade_ticks(0.02, 0.5), std::vector<double>{0.1});
  EXPECT_TRUE(decade_ticks(0, 1).empty());
  const std::vector<double> wide = decade_ticks(1e-30, 1);  // thinned, and 1 stays a tick
  EXPECT_LE(wide.size(), 12u);
  EXPECT_EQ(wide.back(), 1.0);
}

TEST(SvgPlot, FormatTickIsShortAndFixed) {
  EXPECT_EQ(format_tick(0), "0");
  EXPECT_EQ(format_tick(-0.0), "0");
  EXPECT_EQ(format_tick(0.1 + 0.2), "0.3");
  EXPECT_EQ(format_tick(-0.5), "-0.5");
  EXPECT_EQ(format_tick(123456), "123456");
  EXPECT_EQ(format_tick(1e6), "1e6");
  EXPECT_EQ(format_tick(2.5e-7), "2.5e-7");
}

TEST(SvgPlot, EscapesText) {
  EXPECT_EQ(escape_xml("a<b & \"c\" 'd'>"), "a&lt;b &amp; &quot;c&quot; &apos;d&apos;&gt;");
  Plot p{.title = "lr <script> & \"more\"", .x_label = "x'", .y_label = "y>"};
  p.series = {line("a&b", {0, 1}, {0, 1}), line("<c>", {0, 1}, {1, 0})};
  p.series[1].color = "red\"/><evil";
  p.markers = {{0.5, "lr=1e-3 & <best>"}};
  const std::string svg = render_svg(p);
  EXPECT_EQ(xml_problem(svg), "");
  EXPECT_NE(svg.find("lr &lt;script&gt; &amp; &quot;more&quot;"), std::string::npos);
  EXPECT_NE(svg.find("a&amp;b"), std::string::npos);
  EXPECT_NE(svg.find("&lt;c&gt;"), std::string::npos);
  EXPECT_NE(svg.find("lr=1e-3 &amp; &lt;best&gt;"), std::string::npos);
  EXPECT_EQ(svg.find("<script"), std::string::npos);
  EXPECT_EQ(svg.find("<evil"), std::string::npos);
}

TEST(SvgPlot, OutputIsWellFormedForEveryKindOfPlot) {
  std::vector<Plot> plots(5);
  plots[0].series = {line("one", {0, 1, 2}, {0, 0.5, 0.97})};
  plots[1] = Plot{.title = "t", .x_label = "epoch", .y_label = "lr", .log_y = true};
  plots[1].series = {line("a", {0, 1, 2}, {0.1, 0.01, 0.001}), line("b", {0, 1}, {0.05, 0.05})};
  plots[1].series[1].dashed = true;
  plots[1].markers = {{1.5, "here"}};
  plots[2].series = {line("all NaN", {0, 1}, {kNaN, kNaN})};  // no data
  plots[3].series = {line("dot", {}, {kNaN, 2, kNaN})};       // a lone point
  plots[4].log_x = true;
  plots[4].series = {line("lr", {1e-7, 1e-3, 10}, {3, 1, 5})};
  for (size_t i = 0; i < plots.size(); ++i) {
    const std::string svg = render_svg(plots[i]);
    EXPECT_EQ(xml_problem(svg), "") << "plot " << i << ":\n" << svg;
    EXPECT_EQ(svg, render_svg(plots[i])) << "not deterministic, plot " << i;
  }
  // The checker itself can fail.
  EXPECT_NE(xml_problem("<svg><g></svg>"), "");
  EXPECT_NE(xml_problem("<svg a=\"1\"><text>a & b</text></svg>"), "");
  EXPECT_NE(xml_problem("<svg/><svg/>"), "");
}

TEST(SvgPlot, LinearAxesGetNiceTickLabels) {
  Plot p;
  p.series = {line("acc", {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10},
                   {0, 0.5, 0.7, 0.8, 0.85, 0.9, 0.92, 0.94, 0.95, 0.96, 0.97})};
  const std::string svg = render_svg(p);
  for (const char* label : {">0</text>", ">0.2</text>", ">0.4</text>", ">0.6</text>", ">0.8</text>",
                            ">1</text>", ">10</text>"})
    EXPECT_NE(svg.find(label), std::string::npos) << label;
  EXPECT_EQ(svg.find("0.60000"), std::string::npos);
}

TEST(SvgPlot, NonFinitePointsSplitTheLine) {
  Plot p;
  p.series = {line("loss", {0, 1, 2, 3, 4, 5}, {1, 2, kNaN, 3, 4, INFINITY})};
  const std::string svg = render_svg(p);
  const auto ps = paths(svg);
  ASSERT_EQ(ps.size(), 1u) << svg;
  ASSERT_EQ(ps[0].size(), 2u) << svg;
  EXPECT_EQ(ps[0][0].size(), 2u);
  EXPECT_EQ(ps[0][1].size(), 2u);
  EXPECT_LT(ps[0][0].back().first, ps[0][1].front().first);
  EXPECT_EQ(count(svg, " M"), 1u);  // exactly one gap
}

TEST(SvgPlot, SeriesWithoutFinitePointsAreOmittedWithTheLegend) {
  Plot p;
  p.series = {line("kept", {0, 1}, {1, 2}), line("dropped", {0, 1}, {kNaN, kNaN})};
  std::string svg = render_svg(p);
  EXPECT_EQ(paths(svg).size(), 1u);
  EXPECT_EQ(svg.find("dropped"), std::string::npos);
  EXPECT_EQ(svg.find("class=\"legend\""), std::string::npos);  // one line left: no legend

  p.series[1] = line("second", {0, 1}, {2, 1});
  svg = render_svg(p);
  EXPECT_EQ(paths(svg).size(), 2u);
  EXPECT_NE(svg.find("class=\"legend\""), std::string::npos);
  EXPECT_NE(svg.find(">kept</text>"), std::string::npos);
  EXPECT_NE(svg.find(">second</text>"), std::string::npos);
  EXPECT_NE(svg.find("stroke=\"#1f77b4\""), std::string::npos);  // palette: two colors
  EXPECT_NE(svg.find("stroke=\"#ff7f0e\""), std::string::npos);
}

TEST(SvgPlot, EmptyPlotSaysNoData) {
  for (const Plot& p :
       {Plot{.title = "nothing"}, Plot{.log_y = true, .series = {line("neg", {0, 1}, {-1, 0})}}}) {
    const std::string svg = render_svg(p);
    EXPECT_EQ(xml_problem(svg), "") << svg;
    EXPECT_NE(svg.find(">no data</text>"), std::string::npos);
    EXPECT_EQ(svg.find("<path"), std::string::npos);
  }
}

TEST(SvgPlot, MarkersAreDrawnAndWidenTheRange) {
  Plot p;
  p.series = {line("lr", {1, 2, 3}, {1, 2, 3})};
  p.markers = {{2.5, "suggested"}, {kNaN, "skipped"}, {5, "outside"}};
  const std::string svg = render_svg(p);
  EXPECT_EQ(count(svg, "class=\"marker\""), 2u);
  EXPECT_NE(svg.find(">suggested</text>"), std::string::npos);
  EXPECT_EQ(svg.find("skipped"), std::string::npos);
  EXPECT_NE(svg.find(">5</text>"), std::string::npos);  // the x axis reaches the marker
}

TEST(SvgPlot, LogXMapsDecadesToEvenlySpacedIncreasingPixels) {
  Plot p{.log_x = true};
  std::vector<double> x, y;
  for (int e = -7; e <= 1; ++e) x.push_back(std::pow(10.0, e)), y.push_back(e);
  p.series = {line("lr", x, y)};
  const std::string svg = render_svg(p);
  const auto ps = paths(svg);
  ASSERT_EQ(ps.size(), 1u);
  ASSERT_EQ(ps[0].size(), 1u);
  const Subpath& pts = ps[0][0];
  ASSERT_EQ(pts.size(), 9u);
  const double gap = pts[1].first - pts[0].first;
  EXPECT_GT(gap, 10);
  for (size_t i = 1; i < pts.size(); ++i) {
    EXPECT_GT(pts[i].first, pts[i - 1].first);
    EXPECT_NEAR(pts[i].first - pts[i - 1].first, gap, 0.02);
    EXPECT_LT(pts[i].second, pts[i - 1].second);  // y grows upwards
  }
  EXPECT_NE(svg.find(">1e-7</text>"), std::string::npos);
  EXPECT_NE(svg.find(">10</text>"), std::string::npos);
}

TEST(SvgPlot, LogAxisSkipsNonPositiveValues) {
  Plot p{.log_y = true};
  p.series = {line("lr", {0, 1, 2, 3, 4}, {0, 0.1, 0.01, -1, 0.001})};
  const auto ps = paths(render_svg(p));
  ASSERT_EQ(ps.size(), 1u);
  ASSERT_EQ(ps[0].size(), 1u);  // {0.1, 0.01}; the lone 0.001 is a dot
  EXPECT_EQ(ps[0][0].size(), 2u);
  EXPECT_EQ(count(render_svg(p), "<circle"), 1u);
}

TEST(SvgPlot, RejectsMismatchedSeriesAndTinySizes) {
  Plot p;
  p.series = {line("bad", {0, 1, 2}, {0, 1})};
  try {
    render_svg(p);
    FAIL() << "expected ConfigError";
  } catch (const ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("bad"), std::string::npos) << e.what();
  }
  EXPECT_THROW(render_svg(Plot{.width = 50}), ConfigError);
}

TEST(SvgPlot, WriteSvgWritesTheDocumentOrNamesThePath) {
  Plot p{.title = "file"};
  p.series = {line("a", {0, 1}, {0, 1})};
  const fs::path dir =
      fs::temp_directory_path() / fs::path("sculpt_svg_test_" + std::to_string(::getpid()));
  fs::create_directories(dir);
  const std::string file = (dir / "plot.svg").string();
  write_svg(p, file);
  std::ifstream in(file);
  const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  EXPECT_EQ(text, render_svg(p));

  // A missing directory is created (as for every file Sculpt writes); a file in its place is
  // an error naming the path.
  write_svg(p, (dir / "missing" / "plot.svg").string());
  EXPECT_TRUE(fs::exists(dir / "missing" / "plot.svg"));
  std::ofstream(dir / "file") << "x";
  const std::string bad = (dir / "file" / "plot.svg").string();
  try {
    write_svg(p, bad);
    FAIL() << "expected IoError";
  } catch (const IoError& e) {
    EXPECT_NE(std::string(e.what()).find(bad), std::string::npos) << e.what();
  }
  fs::remove_all(dir);
}

}  // namespace
}  // namespace sculpt::report

// Opens an HTML file in headless Chromium (Debian's `chromium`) for the report tests: the DOM
// after scripts ran, what the page logged to the console, a probe of the drawn charts, and a
// PNG screenshot. Runs as root with --no-sandbox (CI is root).
#pragma once

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "integration/cli_harness.h"
#include "unit/report/chart_dom.h"

namespace sculpt::testing {

// The Chromium binary on PATH ("" when there is none).
inline std::string find_chromium() {
  for (const char* name : {"chromium", "chromium-browser", "google-chrome"}) {
    const CliResult r = run_cli_binary("command -v", name);
    if (r.code == 0 && !r.output.empty()) return r.output.substr(0, r.output.find('\n'));
  }
  return "";
}

inline std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

// Installed before the page's own scripts: records uncaught errors and console.error calls.
inline const char* kProbeHead =
    "<script>window.__errors=[];window.addEventListener('error',function(e){"
    "window.__errors.push(String(e.message))});(function(){var f=console.error;"
    "console.error=function(){window.__errors.push(Array.prototype.join.call(arguments,' '));"
    "f.apply(console,arguments)}})();</script>";
// Runs after the page: every chart's rendered size and every series' drawn bounding box, as
// JSON in <pre id="probe">.
inline const char* kProbeTail =
    "<script>(function(){var charts=[];document.querySelectorAll('svg.chart').forEach("
    "function(svg){var r=svg.getBoundingClientRect(),series=[];svg.querySelectorAll("
    "'g.series').forEach(function(g){var b=g.getBBox();series.push({name:g.dataset.name,"
    "points:+g.dataset.points,w:b.width,h:b.height})});charts.push({id:svg.dataset.chart,"
    "w:r.width,h:r.height,series:series})});var p=document.createElement('pre');p.id='probe';"
    "p.textContent=JSON.stringify({charts:charts,errors:window.__errors});"
    "document.body.appendChild(p)})();</script>";

struct BrowserView {
  std::string dom;                    // serialized DOM after the page's scripts ran
  std::vector<std::string> console;  // the CONSOLE lines Chromium logged (errors included)
  nlohmann::json probe;              // {charts: [{id, w, h, series: [...]}], errors: [...]}
};

// Loads a copy of `html` with the probe scripts added, in headless Chromium.
inline BrowserView open_in_chromium(const std::string& chromium, const std::string& html,
                                    const std::string& work_dir) {
  std::string page = read_file(html);
  const size_t head = page.find("<head>");
  if (head != std::string::npos) page.insert(head + 6, kProbeHead);
  const size_t body_end = page.rfind("</body>");
  page.insert(body_end == std::string::npos ? page.size() : body_end, kProbeTail);
  const std::string probe_html = work_dir + "/probe.html", log = work_dir + "/chromium.log";
  std::ofstream(probe_html, std::ios::binary) << page;
  const std::string dom = work_dir + "/dom.html";
  run_cli_binary("sh", "-c '" + chromium +
                           " --headless --disable-gpu --no-sandbox --enable-logging=stderr --v=0 "
                           "--dump-dom file://" + probe_html + " >" + dom + " 2>" + log + "'");
  BrowserView v;
  v.dom = read_file(dom);
  std::istringstream lines(read_file(log));
  for (std::string l; std::getline(lines, l);)
    if (l.find(":CONSOLE") != std::string::npos) v.console.push_back(l);
  const size_t a = v.dom.find("<pre id=\"probe\">"), b = v.dom.find("</pre>", a);
  if (a != std::string::npos && b != std::string::npos) {
    std::string text = v.dom.substr(a + 16, b - a - 16);
    for (const auto& [entity, c] : {std::pair{"&lt;", "<"}, {"&gt;", ">"}, {"&amp;", "&"}})
      for (size_t at; (at = text.find(entity)) != std::string::npos;)
        text.replace(at, std::string(entity).size(), c);
    v.probe = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  }
  return v;
}

// A PNG of the page at `width` x `height` pixels. Returns whether the file was written.
inline bool screenshot(const std::string& chromium, const std::string& html,
                       const std::string& png, int width, int height) {
  std::filesystem::create_directories(std::filesystem::path(png).parent_path());
  std::filesystem::remove(png);
  run_cli_binary(chromium, "--headless --disable-gpu --no-sandbox --hide-scrollbars "
                           "--screenshot=" + png + " --window-size=" + std::to_string(width) +
                           "," + std::to_string(height) + " file://" +
                           std::filesystem::absolute(html).string());
  std::error_code ec;
  return std::filesystem::file_size(png, ec) > 1000 && !ec;
}

// No console message, no script error, and every chart and series of the DOM drawn: the chart
// has a size, the series a non-empty box.
inline void expect_drawn_cleanly(const BrowserView& v) {
  EXPECT_TRUE(v.console.empty()) << ::testing::PrintToString(v.console);
  ASSERT_TRUE(v.probe.is_object()) << "the probe script did not run:\n" << v.dom.substr(0, 2000);
  EXPECT_TRUE(v.probe["errors"].empty()) << v.probe["errors"].dump();
  EXPECT_EQ(v.probe["charts"].size(), charts_in(v.dom).size());
  for (const auto& c : v.probe["charts"]) {
    EXPECT_GT(c["w"].get<double>(), 100) << c.dump();
    EXPECT_GT(c["h"].get<double>(), 100) << c.dump();
    EXPECT_FALSE(c["series"].empty()) << c.dump();
    for (const auto& s : c["series"])
      EXPECT_GT(s["w"].get<double>() + s["h"].get<double>(), 0) << c["id"] << " " << s.dump();
  }
}

}  // namespace sculpt::testing

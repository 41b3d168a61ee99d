// The HTML page: the chart and series contract the browser test reads (class, data-chart,
// data-name, data-points), escaping of everything that comes from files, notes, determinism.
#include "report/html.h"

#include <gtest/gtest.h>

#include <map>
#include <string>

#include "unit/report/chart_dom.h"
#include "unit/report/report_fixtures.h"

namespace sculpt::report {
namespace {

using sculpt::testing::charts_in;
using testing::fake_run;

TEST(Html, EveryChartAndSeriesCarriesItsIdNameAndPointCount) {
  const auto charts = charts_in(render_html(build_report({fake_run("a", 4)})));
  ASSERT_EQ(charts.size(), 6u);
  EXPECT_EQ(charts.at("loss"), (std::map<std::string, int>{{"train", 4}, {"val", 4}, {"test", 4}}));
  EXPECT_EQ(charts.at("lr").at("learning rate"), 40);
  EXPECT_EQ(charts.at("grad-norm").at("post-clip norm"), 40);
  EXPECT_EQ(charts.at("clip-rate").at("clip rate"), 4);
  EXPECT_EQ(charts.at("sparsity"), (std::map<std::string, int>{{"total", 4}, {"fc1", 4}}));
}

TEST(Html, SeveralRunsShareTheCharts) {
  const auto charts =
      charts_in(render_html(build_report({fake_run("sgd", 3), fake_run("adam", 5), fake_run("lion", 2)})));
  EXPECT_EQ(charts.at("loss"),
            (std::map<std::string, int>{{"sgd", 3}, {"adam", 5}, {"lion", 2}}));
}

TEST(Html, TextFromFilesIsEscaped) {
  RunData run = fake_run("a<b>&\"c\"", 1);
  run.recipe_text = "name = \"</pre><script>alert(1)</script>\"\n";
  run.notes.push_back("odd <note>");
  const std::string html = render_html(build_report({run}));
  EXPECT_EQ(html.find("<script>"), std::string::npos);
  EXPECT_NE(html.find("&lt;/pre&gt;&lt;script&gt;alert(1)&lt;/script&gt;"), std::string::npos);
  EXPECT_EQ(html.find("a<b>"), std::string::npos);
  EXPECT_NE(html.find("a&lt;b&gt;&amp;&quot;c&quot;"), std::string::npos);
  EXPECT_NE(html.find("<p class=\"note\">Note: odd &lt;note&gt;</p>"), std::string::npos);
}

TEST(Html, SelfContainedAndDeterministic) {
  const RunReport r = build_report({fake_run("a", 3)});
  const std::string html = render_html(r);
  EXPECT_EQ(html, render_html(r));
  EXPECT_EQ(html.rfind("<!DOCTYPE html>", 0), 0u);
  EXPECT_EQ(html.find("http://"), html.find("http://www.w3.org/2000/svg"));  // only the namespace
  EXPECT_EQ(html.find("https://"), std::string::npos);
  EXPECT_EQ(html.find("<?xml"), std::string::npos);  // inline SVG, no declaration
  EXPECT_NE(html.find("4.2 kB"), std::string::npos);  // the checkpoint's size
}

}  // namespace
}  // namespace sculpt::report

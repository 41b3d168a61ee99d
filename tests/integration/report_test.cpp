// Run reports end to end: report.html after `sculpt train` and `sculpt prune`, opened in
// headless Chromium (no console message, every chart drawn with its series and points, a PNG
// screenshot under test-output/report/), `sculpt report` over three optimizers, a truncated or
// missing metrics.jsonl (a note, exit 0) and bad run directories (one error line, non-zero).
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "integration/browser.h"
#include "integration/cli_harness.h"
#include "skip.h"

namespace sculpt::testing {
namespace {

namespace fs = std::filesystem;

// Tiny binary-classification runs (280 training samples, 3 epochs of 9 steps) with clipping
// and gradual pruning, so that every chart of the report has data.
std::string tiny_recipe(const std::string& optim, double lr) {
  return R"([data]
source = "synthetic-blobs"
samples = 400
features = 8
separation = 4.0
val_fraction = 0.1
test_fraction = 0.2

[model]
name = "binary-mlp"

[optim]
name = ")" + optim + "\"\nlr = " + std::to_string(lr) + R"(

[schedule]
name = "cosine"
warmup = 1

[clip]
name = "global-norm"
max_norm = 1.0

[prune]
when = "gradual"
sparsity = 0.5
start = 1
end = 2
every = 2

[train]
epochs = 3
batch_size = 32
loss = "bce"
seed = 7
)";
}

int count_events(const std::vector<nlohmann::json>& m, const std::string& ev) {
  int n = 0;
  for (const auto& r : m) n += r["event"] == ev;
  return n;
}

class Report : public ::testing::Test {
 protected:
  // Three runs trained once for the whole suite: sgd, adam, lion.
  static void SetUpTestSuite() {
    dir_ = new TempDir("report");
    for (const auto& [optim, lr] : {std::pair{"sgd", 0.1}, {"adam", 0.01}, {"lion", 0.001}}) {
      const std::string recipe = dir_->write(std::string(optim) + ".toml", tiny_recipe(optim, lr));
      outputs_[optim] = run_cli("train -q --recipe " + recipe + " --out " + run(optim));
    }
  }
  static void TearDownTestSuite() {
    delete dir_;
    dir_ = nullptr;
  }
  static std::string run(const std::string& optim) { return dir_->file(optim); }
  static TempDir* dir_;
  static std::map<std::string, CliResult> outputs_;
};
TempDir* Report::dir_ = nullptr;
std::map<std::string, CliResult> Report::outputs_;

TEST_F(Report, TrainWritesReportHtmlAndATextSummary) {
  for (const auto& [optim, r] : outputs_) {
    ASSERT_EQ(r.code, 0) << optim << "\n" << r.output;
    EXPECT_TRUE(fs::exists(run(optim) + "/report.html")) << optim;
    EXPECT_NE(r.output.find("== report =="), std::string::npos) << r.output;
    EXPECT_NE(r.output.find("Loss per epoch (loss):"), std::string::npos) << r.output;
    EXPECT_NE(r.output.find("report: " + run(optim) + "/report.html"), std::string::npos);
  }
}

// The must-show: the report opens in a real browser with every chart drawn.
TEST_F(Report, OpensInHeadlessChromiumWithEveryChartDrawn) {
  ASSERT_EQ(outputs_["sgd"].code, 0) << outputs_["sgd"].output;
  const std::string chromium = find_chromium();
  SCULPT_REQUIRE(!chromium.empty(), "chromium not found (scripts/deps.sh installs it)");
  const std::string html = run("sgd") + "/report.html";
  const BrowserView v = open_in_chromium(chromium, html, dir_->path());
  expect_drawn_cleanly(v);

  // Expected points from metrics.jsonl.
  const auto m = read_metrics(run("sgd"));
  const int epochs = count_events(m, "epoch"), steps = count_events(m, "step");
  const int prunes = count_events(m, "prune");
  ASSERT_EQ(epochs, 3);
  ASSERT_GT(steps, 20);  // with a clipper every step is logged
  ASSERT_GT(prunes, 1);
  const std::map<std::string, int> splits{{"train", epochs}, {"val", epochs}, {"test", epochs}};
  const auto charts = charts_in(v.dom);
  EXPECT_EQ(charts.size(), 6u) << ::testing::PrintToString(charts);
  EXPECT_EQ(charts.at("loss"), splits);
  EXPECT_EQ(charts.at("accuracy"), splits);
  EXPECT_EQ(charts.at("lr"), (std::map<std::string, int>{{"learning rate", steps}}));
  EXPECT_EQ(charts.at("grad-norm"),
            (std::map<std::string, int>{{"pre-clip norm", steps}, {"post-clip norm", steps}}));
  EXPECT_EQ(charts.at("clip-rate"), (std::map<std::string, int>{{"clip rate", epochs}}));
  EXPECT_EQ(charts.at("sparsity").at("total"), prunes);
  EXPECT_GE(charts.at("sparsity").size(), 2u);  // total and at least one layer

  const std::string png = (fs::current_path() / "test-output/report/report.png").string();
  EXPECT_TRUE(screenshot(chromium, html, png, 1360, 2000)) << png;
  std::printf("screenshot: %s\n", png.c_str());
}

// The browser check must be able to fail: an error injected into a report is caught both in
// Chromium's console log and by the probe's error hook.
TEST_F(Report, BrowserCheckCatchesAnInjectedScriptError) {
  ASSERT_EQ(outputs_["sgd"].code, 0);
  const std::string chromium = find_chromium();
  SCULPT_REQUIRE(!chromium.empty(), "chromium not found (scripts/deps.sh installs it)");
  std::string page = read_file(run("sgd") + "/report.html");
  page.insert(page.rfind("</body>"), "<script>no_such_function();</script>");
  const std::string broken = dir_->write("broken.html", page);
  const BrowserView v = open_in_chromium(chromium, broken, dir_->path());
  ASSERT_FALSE(v.console.empty());
  EXPECT_NE(v.console[0].find("no_such_function"), std::string::npos) << v.console[0];
  ASSERT_TRUE(v.probe.is_object());
  ASSERT_EQ(v.probe["errors"].size(), 1u);
  EXPECT_NE(v.probe["errors"][0].get<std::string>().find("no_such_function"), std::string::npos);
}

// The must-show: three optimizers, one loss chart with three series.
TEST_F(Report, ComparesThreeOptimizersInTheSameCharts) {
  const std::string out = dir_->file("compare.html");
  const CliResult r =
      run_cli("report " + run("sgd") + " " + run("adam") + " " + run("lion") + " --out " + out);
  ASSERT_EQ(r.code, 0) << r.output;
  const auto charts = charts_in(read_file(out));
  const std::map<std::string, int> three{{"sgd", 3}, {"adam", 3}, {"lion", 3}};
  EXPECT_EQ(charts.at("loss"), three);
  EXPECT_EQ(charts.at("accuracy"), three);
  EXPECT_EQ(charts.at("lr").size(), 3u);
  for (const char* name : {"sgd", "adam", "lion"})
    EXPECT_NE(r.output.find(std::string("  ") + name + "  "), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("report: " + out), std::string::npos);
}

// The must-show: a run killed mid-write still has a report, with a note.
TEST_F(Report, TruncatedOrMissingMetricsGiveAReportWithANote) {
  const std::string cut = dir_->file("cut");
  fs::copy(run("adam"), cut, fs::copy_options::recursive);
  fs::remove(cut + "/report.html");
  const std::string text = read_file(cut + "/metrics.jsonl");
  const size_t last_line = text.rfind('\n', text.size() - 2) + 1;
  std::ofstream(cut + "/metrics.jsonl", std::ios::binary | std::ios::trunc)
      << text.substr(0, last_line + (text.size() - last_line) / 2);  // the end record, torn
  CliResult r = run_cli("report " + cut);
  ASSERT_EQ(r.code, 0) << r.output;
  EXPECT_NE(r.output.find("note: metrics.jsonl ends in a partial line"), std::string::npos)
      << r.output;
  EXPECT_NE(r.output.find("no end record"), std::string::npos) << r.output;
  const std::string html = read_file(cut + "/report.html");
  EXPECT_NE(html.find("class=\"note\""), std::string::npos);
  EXPECT_EQ(charts_in(html).at("loss").at("train"), 3);  // the epochs are all there

  fs::remove(cut + "/metrics.jsonl");
  r = run_cli("report " + cut);
  ASSERT_EQ(r.code, 0) << r.output;
  EXPECT_NE(r.output.find("note: no metrics.jsonl"), std::string::npos) << r.output;
}

TEST_F(Report, BadRunDirectoriesAreOneErrorLineNamingThePath) {
  const std::string missing = dir_->file("no-such-run");
  CliResult r = run_cli("report " + run("sgd") + " " + missing);
  EXPECT_EQ(r.code, 3) << r.output;
  EXPECT_EQ(r.output, "sculpt: I/O error: " + missing +
                          ": no such run directory (hint: give the directory of a run written by "
                          "sculpt train or sculpt prune (it holds recipe.toml and "
                          "metrics.jsonl))\n");

  const std::string bad = dir_->file("bad-recipe");
  fs::create_directories(bad);
  dir_->write("bad-recipe/recipe.toml", "[optim\n");
  r = run_cli("report " + bad);
  EXPECT_EQ(r.code, 2) << r.output;
  EXPECT_NE(r.output.find(bad + "/recipe.toml:1"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("hint:"), std::string::npos) << r.output;
}

TEST_F(Report, PruneWritesMetricsAndAReport) {
  ASSERT_EQ(outputs_["sgd"].code, 0);
  const std::string out = dir_->file("pruned");
  const CliResult r = run_cli("prune --checkpoint " + run("sgd") +
                              " --sparsity 0.7 --finetune-epochs 2 --out " + out);
  ASSERT_EQ(r.code, 0) << r.output;
  const auto m = read_metrics(out);
  EXPECT_EQ(count_events(m, "eval"), 2);  // dense and pruned
  EXPECT_EQ(count_events(m, "prune"), 1);
  EXPECT_EQ(count_events(m, "epoch"), 2);
  ASSERT_EQ(count_events(m, "end"), 1);
  EXPECT_NEAR(m.back()["sparsity"].get<double>(), 0.7, 0.01);
  EXPECT_GT(m.back()["params"].get<double>(), m.back()["nonzero"].get<double>());
  const auto charts = charts_in(read_file(out + "/report.html"));
  EXPECT_EQ(charts.at("loss").at("train"), 2);
  EXPECT_EQ(charts.at("sparsity").at("total"), 1);
  EXPECT_NE(r.output.find("sparsity per layer:"), std::string::npos) << r.output;
}

}  // namespace
}  // namespace sculpt::testing

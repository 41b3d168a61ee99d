// The report model: which charts exist, their series and point counts for one run and for
// several, thinning of long series, the summary and per-layer rows.
#include "report/run_report.h"

#include <gtest/gtest.h>

#include <cmath>
#include <string>
#include <vector>

#include "core/error.h"
#include "unit/report/report_fixtures.h"

namespace sculpt::report {
namespace {

using testing::fake_run;

const Chart* find_chart(const RunReport& r, const std::string& id) {
  for (const Chart& c : r.charts)
    if (c.plot.id == id) return &c;
  return nullptr;
}

std::vector<std::string> names(const Chart& c) {
  std::vector<std::string> n;
  for (const Series& s : c.plot.series) n.push_back(s.name);
  return n;
}

TEST(RunReport, OneRunHasEveryChartWithItsCurves) {
  const RunReport r = build_report({fake_run("a", 4)});
  std::vector<std::string> ids;
  for (const Chart& c : r.charts) ids.push_back(c.plot.id);
  EXPECT_EQ(ids, (std::vector<std::string>{"loss", "accuracy", "lr", "grad-norm", "clip-rate",
                                           "sparsity"}));
  const Chart& loss = *find_chart(r, "loss");
  EXPECT_EQ(names(loss), (std::vector<std::string>{"train", "val", "test"}));
  for (const Series& s : loss.plot.series) EXPECT_EQ(s.y.size(), 4u) << s.name;
  EXPECT_EQ(find_chart(r, "accuracy")->plot.series[2].y.back(), 100 * (0.5 + 0.08 * 4));
  EXPECT_EQ(find_chart(r, "lr")->plot.series[0].y.size(), 40u);  // every step
  const Chart& norm = *find_chart(r, "grad-norm");
  EXPECT_EQ(names(norm), (std::vector<std::string>{"pre-clip norm", "post-clip norm"}));
  ASSERT_EQ(norm.plot.thresholds.size(), 1u);
  EXPECT_EQ(norm.plot.thresholds[0].y, 5.0);
  const Chart& sparsity = *find_chart(r, "sparsity");
  EXPECT_EQ(names(sparsity), (std::vector<std::string>{"total", "fc1"}));
  EXPECT_DOUBLE_EQ(sparsity.plot.series[1].y.back(), 100.0);
}

TEST(RunReport, SeveralRunsHaveOneSeriesPerRunNamedByTheirDirectory) {
  const RunReport r = build_report({fake_run("sgd", 3), fake_run("adam", 5), fake_run("lion", 2)});
  for (const char* id : {"loss", "accuracy", "lr", "grad-norm", "clip-rate", "sparsity"}) {
    const Chart* c = find_chart(r, id);
    ASSERT_NE(c, nullptr) << id;
    EXPECT_EQ(names(*c), (std::vector<std::string>{"sgd", "adam", "lion"})) << id;
  }
  EXPECT_EQ(find_chart(r, "loss")->plot.series[1].y.size(), 5u);
  EXPECT_TRUE(find_chart(r, "grad-norm")->plot.thresholds.empty());
  ASSERT_EQ(r.rows.size(), 3u);
  EXPECT_EQ(r.rows[1].run, "adam");
  EXPECT_TRUE(r.layers.empty());
}

TEST(RunReport, ChartsWithoutDataAreLeftOut) {
  RunData run = fake_run("plain", 2);
  std::erase_if(run.records, [](const MetricsRecord& m) { return m.event == "prune"; });
  for (MetricsRecord& m : run.records) {
    m.extra.clear();
    m.sparsity.reset();
  }
  run.clipper = "none";
  run.clip_limit.reset();
  const RunReport r = build_report({run});
  EXPECT_EQ(find_chart(r, "clip-rate"), nullptr);
  EXPECT_EQ(find_chart(r, "sparsity"), nullptr);
  EXPECT_EQ(find_chart(r, "sensitivity"), nullptr);
  EXPECT_EQ(names(*find_chart(r, "grad-norm")), (std::vector<std::string>{"pre-clip norm"}));
}

TEST(RunReport, ATextRunHasAPerplexityChartOfItsLosses) {
  RunData text = fake_run("chars", 3);
  text.text = true;
  const RunReport one = build_report({text});
  const Chart* c = find_chart(one, "perplexity");
  ASSERT_NE(c, nullptr);
  EXPECT_EQ(names(*c), (std::vector<std::string>{"train", "val", "test"}));
  const Chart& loss = *find_chart(one, "loss");
  for (size_t k = 0; k < 3; ++k)
    for (size_t i = 0; i < loss.plot.series[k].y.size(); ++i)
      EXPECT_DOUBLE_EQ(c->plot.series[k].y[i], std::exp(loss.plot.series[k].y[i]));
  EXPECT_EQ(find_chart(build_report({fake_run("images", 3)}), "perplexity"), nullptr);
  // Several runs: the validation curve of each text run; a run on other data has none.
  const RunReport many = build_report({text, fake_run("images", 3)});
  ASSERT_NE(find_chart(many, "perplexity"), nullptr);
  EXPECT_EQ(names(*find_chart(many, "perplexity")), (std::vector<std::string>{"chars"}));
}

TEST(RunReport, SensitivityCurvesPerLayer) {
  RunData run = fake_run("s", 1);
  run.sensitivity = {{"fc1", 0.0, 0.9}, {"fc1", 0.5, 0.85}, {"fc2", 0.0, 0.9}, {"fc2", 0.5, 0.6}};
  const RunReport r = build_report({run});
  const Chart* c = find_chart(r, "sensitivity");
  ASSERT_NE(c, nullptr);
  EXPECT_EQ(names(*c), (std::vector<std::string>{"fc1", "fc2"}));
  EXPECT_EQ(c->plot.series[1].y, (std::vector<double>{90, 60}));
}

TEST(RunReport, SummaryAndLayerRowsComeFromTheEndRecord) {
  const RunReport r = build_report({fake_run("a")});
  ASSERT_EQ(r.rows.size(), 1u);
  EXPECT_TRUE(r.rows[0].finished);
  EXPECT_EQ(r.rows[0].test_acc, 0.89);
  EXPECT_EQ(r.rows[0].params, 1000);
  EXPECT_EQ(r.rows[0].nonzero, 250);
  EXPECT_EQ(r.rows[0].wall_s, 6.5);
  ASSERT_EQ(r.layers.size(), 1u);
  EXPECT_EQ(r.layers[0].name, "fc1");
  EXPECT_EQ(r.layers[0].kept, 180);
  EXPECT_EQ(summary_cells(r.rows[0])[3], "89.00%");
}

TEST(RunReport, UnfinishedRunUsesItsLastEpoch) {
  RunData run = fake_run("a", 3);
  run.records.pop_back();  // no end record
  const RunReport r = build_report({run});
  EXPECT_FALSE(r.rows[0].finished);
  EXPECT_EQ(r.rows[0].epochs, 3);
  EXPECT_EQ(r.rows[0].test_acc, 0.5 + 0.08 * 3);
  EXPECT_EQ(summary_cells(r.rows[0])[0], "a (unfinished)");
}

TEST(RunReport, RegressionShowsLossesAndNoAccuracyChart) {
  RunData run = fake_run("lin", 2);
  for (MetricsRecord& m : run.records) m.train_acc = m.val_acc = m.test_acc = std::nullopt;
  run.records.back().val_loss = 0.0125;
  run.records.back().test_loss = 0.011;
  const RunReport r = build_report({run});
  EXPECT_EQ(find_chart(r, "accuracy"), nullptr);
  const std::vector<std::string> cells = summary_cells(r.rows[0]);
  EXPECT_EQ(cells[3], "loss 0.011");
  EXPECT_EQ(cells[4], "loss 0.0125");
}

TEST(RunReport, NoRunIsAnError) { EXPECT_THROW(build_report({}), ConfigError); }

TEST(Thin, KeepsAtMostMaxPointsAndTheExtremes) {
  Series s{.name = "x"};
  for (int i = 0; i < 10000; ++i) {
    s.x.push_back(i);
    s.y.push_back(i == 5000 ? 100.0 : i == 7777 ? -50.0 : 1.0);
  }
  const Series t = thin(s, 400);
  EXPECT_LE(t.y.size(), 400u);
  EXPECT_GE(t.y.size(), 200u);
  EXPECT_EQ(*std::max_element(t.y.begin(), t.y.end()), 100.0);
  EXPECT_EQ(*std::min_element(t.y.begin(), t.y.end()), -50.0);
  EXPECT_TRUE(std::is_sorted(t.x.begin(), t.x.end()));
  EXPECT_EQ(thin(s, 20000).y.size(), 10000u);  // short enough: unchanged
}

}  // namespace
}  // namespace sculpt::report

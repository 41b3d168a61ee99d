// The terminal summary: a sparkline per series with its first and last values, the summary
// and layer tables, the notes.
#include <gtest/gtest.h>

#include <string>

#include "report/run_report.h"
#include "unit/report/report_fixtures.h"

namespace sculpt::report {
namespace {

using testing::fake_run;

TEST(TextReport, SparklinePerSeriesWithFirstAndLastValue) {
  const std::string t = render_text(build_report({fake_run("a", 4)}));
  EXPECT_NE(t.find("Loss per epoch (loss):"), std::string::npos) << t;
  // train loss 1, 1/2, 1/3, 1/4: falling from the top block to the bottom one.
  EXPECT_NE(t.find("train  \u2588\u2583\u2582\u2581  1 -> 0.25 "), std::string::npos) << t;
  EXPECT_NE(t.find("(4 points)"), std::string::npos);
  EXPECT_NE(t.find("Sparsity (weights pruned (%)):"), std::string::npos);
}

TEST(TextReport, TablesAndNotes) {
  RunData run = fake_run("myrun", 2);
  run.notes.push_back("metrics.jsonl ends in a partial line");
  const std::string t = render_text(build_report({run}));
  EXPECT_NE(t.find("summary:"), std::string::npos);
  EXPECT_NE(t.find("myrun"), std::string::npos);
  EXPECT_NE(t.find("89.00%"), std::string::npos);
  EXPECT_NE(t.find("checkpoints/last.safetensors 4.2 kB"), std::string::npos) << t;
  EXPECT_NE(t.find("sparsity per layer:"), std::string::npos);
  EXPECT_NE(t.find("note: metrics.jsonl ends in a partial line"), std::string::npos);
}

TEST(TextReport, FormatBytes) {
  EXPECT_EQ(format_bytes(999), "999 B");
  EXPECT_EQ(format_bytes(1500), "1.5 kB");
  EXPECT_EQ(format_bytes(2340000), "2.34 MB");
}

}  // namespace
}  // namespace sculpt::report

// `sculpt schedule` through the real CLI on a tiny synthetic recipe: the printed rates against
// the family's formula, the row choice, the momentum column, the plateau note, the SVG plots
// and the errors for a misspelled key and a missing file.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <sstream>
#include <string>
#include <vector>

#include "integration/cli_harness.h"

namespace sculpt::testing {
namespace {

namespace fs = std::filesystem;

// 1000 samples: 200 test, 80 val, 720 train; batches of 72 give 10 steps per epoch.
std::string recipe_text(const std::string& schedule) {
  return R"([data]
source = "synthetic-linear"
samples = 1000
features = 4
val_fraction = 0.1
test_fraction = 0.2
normalize = "none"

[model]
name = "linear"

[optim]
name = "sgd"
lr = 0.1
momentum = 0.9

[train]
epochs = 6
batch_size = 72
loss = "mse"

[schedule]
)" + schedule;
}

struct Row {
  int64_t step = 0;
  double epoch = 0, lr = 0;
  std::string momentum;  // empty without the column
};

// The table rows: lines whose first word is a step number.
std::vector<Row> table(const std::string& out) {
  std::vector<Row> rows;
  std::istringstream in(out);
  for (std::string line; std::getline(in, line);) {
    std::istringstream words(line);
    std::string first;
    if (!(words >> first) || first.find_first_not_of("0123456789") != std::string::npos) continue;
    Row r;
    r.step = std::stoll(first);
    words >> r.epoch >> r.lr >> r.momentum;
    rows.push_back(r);
  }
  return rows;
}

// "... 10 steps per epoch ..." from the header line.
int64_t steps_per_epoch(const std::string& out) {
  const size_t at = out.find(" steps per epoch");
  if (at == std::string::npos) return -1;
  return std::stoll(out.substr(out.rfind(' ', at - 1) + 1));
}

std::string read_schedule_file(const std::string& path) {
  std::ifstream in(path);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

TEST(ScheduleCli, StepScheduleMatchesTheFormula) {
  TempDir dir("sched-step");
  const std::string recipe =
      dir.write("step.toml", recipe_text("name = \"step\"\nstep_size = 2\ngamma = 0.5\n"));
  const CliResult r = run_cli("schedule --recipe " + recipe + " --every 5");
  ASSERT_EQ(r.code, 0) << r.output;
  EXPECT_NE(r.output.find("schedule step"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("60 total steps"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("base lr 0.1"), std::string::npos) << r.output;
  const int64_t spe = steps_per_epoch(r.output);
  ASSERT_EQ(spe, 10) << r.output;

  const std::vector<Row> rows = table(r.output);
  ASSERT_EQ(rows.size(), 13u) << r.output;  // 0, 5, ..., 55 and the last step, 59
  for (size_t i = 0; i < 12; ++i) EXPECT_EQ(rows[i].step, int64_t(5 * i));
  EXPECT_EQ(rows.back().step, 59);
  for (const Row& row : rows) {
    const double epoch = double(row.step) / double(spe);
    EXPECT_LE(row.epoch, epoch + 1e-9) << "step " << row.step;  // truncated to 2 decimals
    EXPECT_GT(row.epoch, epoch - 0.01) << "step " << row.step;
    const double want = 0.1 * std::pow(0.5, std::floor(epoch / 2));  // eta_0 gamma^floor(t/size)
    EXPECT_NEAR(row.lr, want, 1e-6 * want) << "step " << row.step;
    EXPECT_EQ(row.momentum, "") << "no momentum column for step decay";
  }
  EXPECT_NEAR(rows[3].lr, 0.1, 1e-9);     // step 15, epoch 1.5
  EXPECT_NEAR(rows[4].lr, 0.05, 1e-9);    // step 20, epoch 2
  EXPECT_NEAR(rows[12].lr, 0.025, 1e-9);  // step 59, epoch 5.9
  EXPECT_EQ(r.output.find("reduce-on-plateau"), std::string::npos);
}

TEST(ScheduleCli, OverridesApplyAndDefaultRowsStayReadable) {
  TempDir dir("sched-set");
  const std::string recipe =
      dir.write("step.toml", recipe_text("name = \"step\"\nstep_size = 2\ngamma = 0.5\n"));
  const CliResult r = run_cli("schedule --recipe " + recipe +
                              " --set schedule.unit=step --set schedule.step_size=7");
  ASSERT_EQ(r.code, 0) << r.output;
  EXPECT_NE(r.output.find("unit step"), std::string::npos) << r.output;
  const std::vector<Row> rows = table(r.output);
  ASSERT_GE(rows.size(), 20u) << r.output;
  ASSERT_LE(rows.size(), 31u) << r.output;
  EXPECT_EQ(rows.front().step, 0);
  EXPECT_EQ(rows.back().step, 59);
  for (const Row& row : rows) {
    const double want = 0.1 * std::pow(0.5, std::floor(double(row.step) / 7));
    EXPECT_NEAR(row.lr, want, 1e-6 * want) << "step " << row.step;
  }
}

TEST(ScheduleCli, OneCyclePrintsAndPlotsTheMomentum) {
  TempDir dir("sched-onecycle");
  const std::string recipe =
      dir.write("oc.toml", recipe_text("name = \"one-cycle\"\nmax_lr = 0.5\n"));
  const std::string plot = dir.file("lr.svg");
  const CliResult r = run_cli("schedule --recipe " + recipe + " --plot " + plot);
  ASSERT_EQ(r.code, 0) << r.output;
  EXPECT_NE(r.output.find("momentum"), std::string::npos) << r.output;
  const std::vector<Row> rows = table(r.output);
  ASSERT_FALSE(rows.empty()) << r.output;
  for (const Row& row : rows) EXPECT_NE(row.momentum, "") << "step " << row.step;
  double peak = 0;
  for (const Row& row : rows) peak = std::max(peak, row.lr);
  EXPECT_LE(peak, 0.5 + 1e-9);
  EXPECT_GT(peak, 0.3);  // the table samples near the peak
  EXPECT_LT(rows.front().lr, 0.05);

  EXPECT_NE(r.output.find("wrote " + plot), std::string::npos) << r.output;
  const std::string momentum = dir.file("lr-momentum.svg");
  EXPECT_NE(r.output.find("wrote " + momentum), std::string::npos) << r.output;
  for (const std::string& file : {plot, momentum}) {
    const std::string svg = read_schedule_file(file);
    EXPECT_NE(svg.find("<svg"), std::string::npos) << file;
    EXPECT_NE(svg.find("<path d=\"M"), std::string::npos) << file;
    EXPECT_NE(svg.find("</svg>"), std::string::npos) << file;
  }
}

TEST(ScheduleCli, PlotHasOnePointPerStep) {
  TempDir dir("sched-plot");
  const std::string recipe = dir.write("cos.toml", recipe_text("name = \"cosine\"\n"));
  const std::string plot = dir.file("cos.svg");
  const CliResult r = run_cli("schedule --recipe " + recipe + " --plot " + plot);
  ASSERT_EQ(r.code, 0) << r.output;
  const std::string svg = read_schedule_file(plot);
  const size_t d = svg.find("<path d=\"");
  ASSERT_NE(d, std::string::npos) << svg;
  const std::string path = svg.substr(d, svg.find('"', d + 9) - d);
  EXPECT_EQ(std::count(path.begin(), path.end(), 'M'), 1) << path;
  EXPECT_EQ(std::count(path.begin(), path.end(), 'L'), 59) << path;  // 60 steps
  EXPECT_NE(svg.find(">epoch</text>"), std::string::npos);
  EXPECT_FALSE(fs::exists(dir.file("cos-momentum.svg")));
}

TEST(ScheduleCli, PlateauIsNoted) {
  TempDir dir("sched-plateau");
  const std::string recipe = dir.write(
      "p.toml",
      recipe_text(
          "name = \"constant\"\n\n[schedule.plateau]\nmetric = \"val_loss\"\npatience = 2\n"));
  const CliResult r = run_cli("schedule --recipe " + recipe);
  ASSERT_EQ(r.code, 0) << r.output;
  EXPECT_NE(r.output.find("reduce-on-plateau"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("when val_loss stalls"), std::string::npos) << r.output;
}

TEST(ScheduleCli, MisspelledKeyIsAConfigErrorNamingIt) {
  TempDir dir("sched-typo");
  const std::string recipe =
      dir.write("typo.toml", recipe_text("name = \"step\"\nstep_sise = 2\n"));
  CliResult r = run_cli("schedule --recipe " + recipe);
  EXPECT_EQ(r.code, 2) << r.output;
  EXPECT_NE(r.output.find("step_sise"), std::string::npos) << r.output;
  EXPECT_TRUE(table(r.output).empty()) << r.output;

  const std::string good = dir.write("good.toml", recipe_text("name = \"step\"\n"));
  r = run_cli("schedule --recipe " + good + " --set schedule.gama=0.5");
  EXPECT_NE(r.code, 0) << r.output;
  EXPECT_NE(r.output.find("gama"), std::string::npos) << r.output;
}

TEST(ScheduleCli, MissingRecipeIsAnIoErrorNamingThePath) {
  const CliResult r = run_cli("schedule --recipe /nonexistent/sched.toml");
  EXPECT_EQ(r.code, 3) << r.output;
  EXPECT_NE(r.output.find("/nonexistent/sched.toml"), std::string::npos) << r.output;
}

TEST(ScheduleCli, UnwritablePlotIsAnIoErrorNamingThePath) {
  TempDir dir("sched-badplot");
  const std::string recipe = dir.write("s.toml", recipe_text("name = \"step\"\n"));
  // A missing directory is created; one that cannot be (a file is in its place) is an error.
  dir.write("file", "");
  const std::string plot = dir.file("file/lr.svg");
  const CliResult r = run_cli("schedule --recipe " + recipe + " --plot " + plot);
  EXPECT_EQ(r.code, 3) << r.output;
  EXPECT_NE(r.output.find(plot), std::string::npos) << r.output;
}

}  // namespace
}  // namespace sculpt::testing

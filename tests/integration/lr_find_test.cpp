// `sculpt lr-find` through the real CLI. The acceptance test: on the MLP (SGD, Nesterov momentum
// 0.9, Fashion-MNIST) the suggested rate trains at least as well in 3 epochs as lr = 0.01. Also:
// the SVG and CSV it writes, the flat-loss note on synthetic data, and bad options named.
#include <fmt/format.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "integration/cli_harness.h"
#include "skip.h"

namespace sculpt::testing {
namespace {

namespace fs = std::filesystem;

std::string read(const std::string& path) {
  std::ifstream in(path);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

// The X of "use it: --set optim.lr=X" (NaN when missing).
double suggested_lr(const std::string& out) {
  const std::string tag = "use it: --set optim.lr=";
  const size_t at = out.find(tag);
  if (at == std::string::npos) return std::nan("");
  return std::stod(out.substr(at + tag.size()));
}

// Final test accuracy of 3 epochs of the MLP at a constant `lr`.
double accuracy_at(const TempDir& dir, double lr, const std::string& name) {
  const std::string run = dir.file(name);
  const CliResult r =
      run_cli(fmt::format("train -q --recipe {} --set train.epochs=3 --set optim.lr={} --set "
                          "schedule.name=constant --set output.checkpoint=false --out {}",
                          recipe_path("mlp.toml"), lr, run));
  EXPECT_EQ(r.code, 0) << r.output;
  const std::vector<nlohmann::json> m = read_metrics(run);
  for (auto it = m.rbegin(); it != m.rend(); ++it)
    if ((*it)["event"] == "end") return (*it)["test_acc"].get<double>();
  ADD_FAILURE() << "no end record in " << run << "\n" << r.output;
  return 0.0;
}

TEST(LrFind, SuggestedRateOnTheMlpTrainsAtLeastAsWellAsOneHundredth) {
  SCULPT_REQUIRE(have_fashion(), "Fashion-MNIST not installed (scripts/deps.sh installs dataset-fashion-mnist)");
  TempDir dir("lrfind-mlp");
  const std::string out = dir.file("find");
  const CliResult r = run_cli("lr-find --recipe " + recipe_path("mlp.toml") +
                              " --set schedule.name=constant --out " + out);
  ASSERT_EQ(r.code, 0) << r.output;
  const double lr = suggested_lr(r.output);
  ASSERT_TRUE(std::isfinite(lr)) << r.output;
  EXPECT_NE(r.output.find("suggested lr:"), std::string::npos) << r.output;
  EXPECT_TRUE(fs::exists(out + "/lr-find.svg"));
  const std::string csv = read(out + "/lr-find.csv");
  EXPECT_EQ(csv.rfind("lr,loss,smoothed\n", 0), 0u) << csv.substr(0, 80);

  const double acc_suggested = accuracy_at(dir, lr, "suggested");
  const double acc_001 = accuracy_at(dir, 0.01, "lr001");
  std::printf("[ lr-find ] suggested lr %.4g: %.2f%%; lr 0.01: %.2f%%\n", lr, 100.0 * acc_suggested,
              100.0 * acc_001);
  EXPECT_GE(acc_suggested, acc_001) << r.output;
}

// A tiny synthetic recipe: the files, the table and the suggestion line without Fashion-MNIST.
std::string linreg_recipe() {
  return R"([data]
source = "synthetic-linear"
samples = 1000
features = 4
normalize = "none"
[model]
name = "linear"
[optim]
name = "sgd"
lr = 0.05
momentum = 0.9
[train]
batch_size = 32
loss = "mse"
)";
}

TEST(LrFind, WritesThePlotAndCsvWhereAsked) {
  TempDir dir("lrfind-files");
  const std::string recipe = dir.write("lin.toml", linreg_recipe());
  const std::string plot = dir.file("plots/sweep.svg");
  const CliResult r = run_cli("lr-find --recipe " + recipe + " --steps 80 --plot " + plot);
  ASSERT_EQ(r.code, 0) << r.output;
  EXPECT_TRUE(std::isfinite(suggested_lr(r.output))) << r.output;
  const std::string svg = read(plot);
  EXPECT_NE(svg.find("<svg"), std::string::npos);
  EXPECT_NE(svg.find("suggested"), std::string::npos);
  const std::string csv = read(dir.file("plots/sweep.csv"));
  EXPECT_EQ(csv.rfind("lr,loss,smoothed\n", 0), 0u);
  EXPECT_GT(std::count(csv.begin(), csv.end(), '\n'), 10);
}

TEST(LrFind, AFlatLossIsReportedAndStillPlotted) {
  TempDir dir("lrfind-flat");
  const std::string recipe = dir.write("lin.toml", linreg_recipe());
  const std::string out = dir.file("out");
  const CliResult r =
      run_cli("lr-find --recipe " + recipe + " --start 1e-12 --end 1e-11 --steps 30 --out " + out);
  ASSERT_EQ(r.code, 0) << r.output;
  EXPECT_NE(r.output.find("never decreased"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("no suggested lr"), std::string::npos) << r.output;
  EXPECT_TRUE(fs::exists(out + "/lr-find.svg"));
  EXPECT_TRUE(fs::exists(out + "/lr-find.csv"));
}

TEST(LrFind, BadOptionsExitNonZeroNamingTheOption) {
  TempDir dir("lrfind-bad");
  const std::string recipe = dir.write("lin.toml", linreg_recipe());
  for (const std::string opt :
       {"--start 0", "--end 1e-9", "--steps 5", "--smooth 1", "--diverge 1"}) {
    const CliResult r =
        run_cli("lr-find --recipe " + recipe + " " + opt + " --out " + dir.file("out"));
    EXPECT_EQ(r.code, 2) << opt << "\n" << r.output;
    EXPECT_NE(r.output.find(opt.substr(0, opt.find(' '))), std::string::npos) << r.output;
    EXPECT_FALSE(fs::exists(dir.file("out"))) << opt;
  }
  const CliResult missing = run_cli("lr-find --recipe " + dir.file("nope.toml"));
  EXPECT_NE(missing.code, 0);
  EXPECT_NE(missing.output.find("nope.toml"), std::string::npos) << missing.output;
}

}  // namespace
}  // namespace sculpt::testing

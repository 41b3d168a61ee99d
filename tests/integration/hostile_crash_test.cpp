// Issue 28, crashes: inputs that killed the process (exit 139, no message) or hung it are one
// config error line now: a thread count beyond the cap (recipe and --threads), a recipe whose
// one table header has 100,000 dotted parts.
#include <gtest/gtest.h>

#include <string>

#include "integration/hostile_harness.h"

namespace sculpt::testing {
namespace {

TEST(HostileCrash, TrainThreadsBeyondTheCapIsOneConfigError) {
  TempDir dir("hc-threads");
  std::string text = kHostileRecipe;
  text.replace(text.find("threads = 1"), 11, "threads = 100000");
  const CliResult r =
      run_cli_within(120, "train -q -r " + dir.write("r.toml", text) + " -o " + dir.file("run"));
  expect_one_error_line(r, 2, "train.threads must be in [0, 256], got 100000");
  EXPECT_FALSE(std::filesystem::exists(dir.file("run")));
  // --set gives the same error, and the cap itself still trains.
  const CliResult s = run_cli_within(
      120, "train -q -r " + hostile_recipe(dir) + " --set train.threads=257 -o " + dir.file("run"));
  expect_one_error_line(s, 2, "train.threads must be in [0, 256], got 257");
  const CliResult ok = run_cli_within(
      120, "train -q -r " + hostile_recipe(dir) + " --set train.threads=256 -o " + dir.file("ok"));
  EXPECT_EQ(ok.code, 0) << ok.output;
}

TEST(HostileCrash, InferThreadsBeyondTheCapOrNegativeIsOneConfigError) {
  TempDir dir("hc-infer-threads");
  const std::string model = hostile_export(hostile_run(dir));
  const std::string csv = dir.write("x.csv", "a,b,c,d\n1,2,3,4\n4,5,6,7\n");
  for (const std::string t : {"100000", "20000", "-1"}) {
    SCOPED_TRACE(t);
    const CliResult r = run_cli_within(60, "infer -m " + model + " -i " + csv + " -t " + t);
    expect_one_error_line(r, 2, "--threads: the thread count must be in [0, 256]");
    EXPECT_NE(r.output.find("got " + t), std::string::npos) << r.output;
  }
  const CliResult ok = run_cli_within(60, "infer -m " + model + " -i " + csv + " -t 256");
  EXPECT_EQ(ok.code, 0) << ok.output;
}

TEST(HostileCrash, DeeplyDottedTableHeaderIsOneConfigErrorNamingTheLine) {
  TempDir dir("hc-dotted");
  std::string header = "[a";
  for (int i = 1; i < 100000; ++i) header += ".a";
  header += "]\n";
  const std::string recipe = dir.write("deep.toml", "# a comment.with.dots\n" + header);
  CliResult r = run_cli_within(60, "train -q -r " + recipe + " -o " + dir.file("run"));
  expect_one_error_line(r, 2, "deep.toml:2: a key or table name has more than 16 dotted parts");
  // The same as a dotted key inside a table, and through `sculpt schedule`.
  std::string key = "epochs";
  for (int i = 1; i < 100000; ++i) key += ".x";
  const std::string keyed = dir.write("key.toml", "[train]\n" + key + " = 1\n");
  r = run_cli_within(60, "schedule -r " + keyed);
  expect_one_error_line(r, 2, "key.toml:2: a key or table name has more than 16 dotted parts");
  // Dots inside strings and comments, and a recipe's own three levels, are fine.
  const std::string fine = dir.write(
      "fine.toml", std::string(kHostileRecipe) +
                       "[schedule]\nname = \"constant\"\n[schedule.plateau]\nfactor = 0.5\n"
                       "# " +
                       header + "[clip]\nname = \"none\" # " + header);
  r = run_cli_within(60, "schedule -r " + fine);
  EXPECT_EQ(r.code, 0) << r.output;
}

}  // namespace
}  // namespace sculpt::testing

// Issue 28, destroyed data: a failed or mistaken command leaves what the user had as it was. An
// export is checked before it replaces the previous one; an output that is the command's input,
// a non-empty run directory or a file another command wrote is refused (--force where replacing
// is meant); a device given as the output is written in place and stays a device.
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <limits>
#include <string>

#include "integration/hostile_harness.h"
#include "io/checkpoint.h"
#include "skip.h"

namespace sculpt::testing {
namespace {

namespace fs = std::filesystem;

// The run's last checkpoint with one weight made NaN and written back through the library, so
// that its checksum is valid: only the values are wrong.
void poison_checkpoint(const std::string& run, float value) {
  const std::string last = run + "/checkpoints/last.safetensors";
  io::Checkpoint ck = io::load_checkpoint(last);
  ck.tensors.at("fc1.weight").data[3] = value;
  std::vector<io::NamedTensor> tensors;
  for (const auto& [name, t] : ck.tensors) tensors.push_back({name, t.shape, t.data.data()});
  fs::remove(last);
  io::save_checkpoint(last, tensors, ck.metadata);
}

TEST(HostileOutput, ExportOfANonFiniteCheckpointKeepsThePreviousExport) {
  TempDir dir("ho-nan-export");
  for (const float bad :
       {std::numeric_limits<float>::quiet_NaN(), std::numeric_limits<float>::infinity()}) {
    const std::string run = hostile_run(dir, std::isnan(bad) ? "nan" : "inf");
    const std::string model = hostile_export(run);
    const std::string before = file_bytes(model);
    poison_checkpoint(run, bad);
    const CliResult r = run_cli("export -c " + run);
    EXPECT_TRUE(r.code == 3 || r.code == 4) << r.output;
    EXPECT_NE(r.output.find("fc1.weight"), std::string::npos) << r.output;
    EXPECT_NE(r.output.find("not finite"), std::string::npos) << r.output;
    EXPECT_EQ(file_bytes(model), before) << "the previous export was replaced";
    EXPECT_FALSE(fs::exists(model + ".tmp"));
  }
}

TEST(HostileOutput, TrainIntoAnExistingRunIsRefusedAndTheRunKept) {
  TempDir dir("ho-train-over");
  const std::string run = hostile_run(dir);
  const std::string other =
      dir.write("other.toml", std::string(kHostileRecipe) + "[optim]\nname = \"adam\"\n");
  const auto files_before = fs::directory_iterator(run + "/checkpoints");
  std::vector<std::string> before;
  for (const auto& e : files_before) before.push_back(e.path().filename().string());
  const std::string recipe_before = file_bytes(run + "/recipe.toml");

  const CliResult r = run_cli("train -q -r " + other + " -o " + run);
  expect_one_error_line(r, 2, "holds a run");
  EXPECT_NE(r.output.find("--resume " + run), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("--force"), std::string::npos) << r.output;
  std::vector<std::string> after;
  for (const auto& e : fs::directory_iterator(run + "/checkpoints"))
    after.push_back(e.path().filename().string());
  std::sort(before.begin(), before.end());
  std::sort(after.begin(), after.end());
  EXPECT_EQ(after, before);
  EXPECT_EQ(file_bytes(run + "/recipe.toml"), recipe_before);

  // A directory holding anything else is refused too; an empty one is used.
  fs::create_directories(dir.file("notes"));
  put_file_bytes(dir.file("notes/todo.txt"), "mine");
  expect_one_error_line(run_cli("train -q -r " + other + " -o " + dir.file("notes")), 2,
                        "is not empty (todo.txt)");
  EXPECT_EQ(file_bytes(dir.file("notes/todo.txt")), "mine");
  fs::create_directories(dir.file("empty"));
  EXPECT_EQ(run_cli("train -q -r " + other + " -o " + dir.file("empty")).code, 0);

  // --force replaces the old run: nothing of it (its export here) stays beside the new run.
  hostile_export(run);
  const CliResult f = run_cli("train -q -r " + other + " -o " + run + " --force");
  EXPECT_EQ(f.code, 0) << f.output;
  EXPECT_NE(file_bytes(run + "/recipe.toml").find("\"adam\""), std::string::npos);
  EXPECT_FALSE(fs::exists(run + "/model.sculpt")) << "the old run's export was kept";
  const auto records = read_metrics(run);
  EXPECT_EQ(std::count_if(records.begin(), records.end(),
                          [](const auto& j) { return j.value("event", "") == "end"; }),
            1)
      << "the old run's metrics were kept";
}

TEST(HostileOutput, PruneIntoTheRunItReadsIsRefusedEvenWithForce) {
  TempDir dir("ho-prune-self");
  const std::string run = hostile_run(dir);
  const std::string last = file_bytes(run + "/checkpoints/last.safetensors");
  for (const std::string force : {"", " --force"}) {
    const CliResult r = run_cli("prune -c " + run + " -o " + run + " --sparsity 0.5" + force);
    expect_one_error_line(r, 2, "which this command reads");
    EXPECT_EQ(file_bytes(run + "/checkpoints/last.safetensors"), last);
  }
  // The same through a checkpoint file of the run, and through another spelling of the path.
  const CliResult r = run_cli("prune -c " + run + "/checkpoints/last.safetensors -o " + dir.path() +
                              "/./run/ --sparsity 0.5 --force");
  expect_one_error_line(r, 2, "which this command reads");
  EXPECT_EQ(file_bytes(run + "/checkpoints/last.safetensors"), last);
}

TEST(HostileOutput, ExportOverItsOwnCheckpointOrAnotherFileIsRefused) {
  TempDir dir("ho-export-self");
  const std::string run = hostile_run(dir);
  const std::string ck = run + "/checkpoints/last.safetensors";
  const std::string bytes = file_bytes(ck);
  for (const std::string force : {"", " --force"}) {
    const CliResult r = run_cli("export -c " + ck + " -o " + ck + force);
    expect_one_error_line(r, 2, "which this command reads");
    EXPECT_EQ(file_bytes(ck), bytes);
  }
  // A hard link to the checkpoint is the same file.
  fs::create_hard_link(ck, dir.file("alias.safetensors"));
  expect_one_error_line(run_cli("export -c " + ck + " -o " + dir.file("alias.safetensors")), 2,
                        "which this command reads");
  // A file that is not an export (the run's recipe) is replaced only with --force.
  const std::string recipe = run + "/recipe.toml";
  const std::string text = file_bytes(recipe);
  expect_one_error_line(run_cli("export -c " + run + " -o " + recipe), 2,
                        "exists and is not an export written by Sculpt");
  EXPECT_EQ(file_bytes(recipe), text);
  EXPECT_EQ(run_cli("export -c " + run + " -o " + dir.file("copy.toml")).code, 0);
  EXPECT_EQ(run_cli("export -c " + run + " -o " + dir.file("copy.toml")).code, 0)
      << "an export replaces an export";
  EXPECT_EQ(run_cli("export -c " + run + " -o " + recipe + " --force").code, 0);
  EXPECT_EQ(file_bytes(recipe).substr(0, 8), "SCULPTMD");
  // A report never replaces the metrics it is drawn from.
  const std::string metrics = file_bytes(run + "/metrics.jsonl");
  expect_one_error_line(run_cli("report " + run + " -o " + run + "/metrics.jsonl --force"), 2,
                        "which this command reads");
  EXPECT_EQ(file_bytes(run + "/metrics.jsonl"), metrics);
}

// As root, a device node in a scratch directory stands in for /dev/null and /dev/full.
TEST(HostileOutput, DevicesAreWrittenInPlaceAndStayDevices) {
  SCULPT_REQUIRE(is_root(), "creating device nodes (mknod) needs root");
  TempDir dir("ho-devices");
  const std::string run = hostile_run(dir);
  const std::string model = hostile_export(run);
  const std::string csv = dir.write("x.csv", "a,b,c,d\n1,2,3,4\n4,5,6,7\n");
  const std::string null = dir.file("null"), full = dir.file("full");
  ASSERT_TRUE(make_char_device(null, 1, 3)) << std::strerror(errno);
  ASSERT_TRUE(make_char_device(full, 1, 7)) << std::strerror(errno);
  const std::vector<std::string> commands = {
      "infer -m " + model + " -i " + csv + " -o ",
      "export -c " + run + " -o ",
      "report " + run + " -o ",
  };
  for (const std::string& c : commands) {
    SCOPED_TRACE(c);
    const CliResult ok = run_cli(c + null);
    EXPECT_EQ(ok.code, 0) << ok.output;
    EXPECT_TRUE(is_char_device(null)) << "the device was replaced";
    const CliResult r = run_cli(c + full);
    EXPECT_EQ(r.code, 3) << r.output;
    // The error is the last line, and the only one of its kind.
    const size_t at = r.output.find("sculpt: I/O error: " + full + ": ");
    EXPECT_NE(at, std::string::npos) << r.output;
    EXPECT_EQ(r.output.find('\n', at), r.output.size() - 1) << r.output;
    EXPECT_EQ(r.output.find("sculpt: "), r.output.rfind("sculpt: ")) << r.output;
    EXPECT_NE(r.output.find("No space left on device"), std::string::npos) << r.output;
    EXPECT_TRUE(is_char_device(full)) << "the device was replaced";
    EXPECT_FALSE(fs::exists(full + ".tmp"));
  }
}

}  // namespace
}  // namespace sculpt::testing

// Disk trouble during `sculpt train`: a file-size limit (ulimit -f, as a full disk) or a
// checkpoint directory that cannot be written gives one clear error naming the file and a
// non-zero exit; the checkpoints written before stay intact and the run resumes from them.
#include <gtest/gtest.h>

#include <fmt/format.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <string>

#include "integration/cli_harness.h"
#include "io/checkpoint.h"

namespace sculpt::testing {
namespace {

namespace fs = std::filesystem;

// The MLP on the binary data: a checkpoint of ~400 KB, far larger than the text files.
const std::string kDiskRun = " train -q --recipe " + recipe_path("binary.toml") +
                         " --set train.epochs=1 --set train.threads=1 --set model.name=mlp";

std::string one_epoch(const TempDir& dir) {
  const std::string run = dir.file("run");
  const CliResult r = run_cli(kDiskRun + " --out " + run);
  EXPECT_EQ(r.code, 0) << r.output;
  return run;
}

TEST(Disk, FileSizeLimitIsAClearErrorAndTheCheckpointStaysIntact) {
  TempDir dir("disk-full");
  const std::string run = one_epoch(dir);
  const std::string last = run + "/checkpoints/last.safetensors";
  const auto size = fs::file_size(last);
  const std::string step = io::load_checkpoint(last).metadata.at("step");
  // A limit (in 1 KiB blocks) below one checkpoint: the next one cannot be written.
  const std::string limit = std::to_string(size / 1024 / 2);
  const CliResult r = run_cli_binary(
      "ulimit -f " + limit + "; " + std::string(SCULPT_CLI),
      "train -q --resume " + run + " --set train.epochs=2");
  EXPECT_EQ(r.code, 3) << r.output;
  EXPECT_NE(r.output.find("File too large"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find(run + "/checkpoints/step-"), std::string::npos) << r.output;
  EXPECT_EQ(std::count(r.output.begin(), r.output.end(), '\n'), 1) << r.output;
  EXPECT_EQ(io::load_checkpoint(last).metadata.at("step"), step);
  // Without the limit the run goes on from there.
  const CliResult again = run_cli("train -q --resume " + run + " --set train.epochs=2");
  EXPECT_EQ(again.code, 0) << again.output;
  EXPECT_EQ(io::load_checkpoint(last).metadata.at("epoch"), "2");
}

// Permission bits do not stop root (CI), so the write is made to fail another way: a directory
// where the next checkpoint's temporary file goes.
TEST(Disk, UnwritableCheckpointIsAClearErrorAndTheCheckpointStaysIntact) {
  TempDir dir("disk-ro");
  const std::string run = one_epoch(dir);
  const std::string last = run + "/checkpoints/last.safetensors";
  const int64_t steps = std::stoll(io::load_checkpoint(last).metadata.at("step"));
  const std::string blocked =
      run + "/checkpoints/step-" + fmt::format("{:09d}", 2 * steps) + ".safetensors.tmp";
  fs::create_directories(blocked);
  const CliResult r = run_cli("train -q --resume " + run + " --set train.epochs=2");
  EXPECT_EQ(r.code, 3) << r.output;
  EXPECT_NE(r.output.find(blocked), std::string::npos) << r.output;
  EXPECT_EQ(std::count(r.output.begin(), r.output.end(), '\n'), 1) << r.output;
  EXPECT_EQ(io::load_checkpoint(last).metadata.at("step"), std::to_string(steps));
}

}  // namespace
}  // namespace sculpt::testing

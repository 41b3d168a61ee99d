// `sculpt train --resume` end to end: 1 epoch + resume to 2 equals 2 epochs straight, bit for bit
// in every checkpoint tensor (weights and optimizer state) and in the metrics' epoch records,
// for SGD-Nesterov, Adam, bf16 products and a model with dropout; bad resume directories and
// forbidden changes get one clear error and a non-zero exit, never a crash.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "integration/cli_harness.h"
#include "io/checkpoint.h"
#include "skip.h"

namespace sculpt::testing {
namespace {

namespace fs = std::filesystem;

std::vector<nlohmann::json> events(const std::vector<nlohmann::json>& m, const std::string& ev) {
  std::vector<nlohmann::json> out;
  for (const auto& j : m)
    if (j["event"] == ev) out.push_back(j);
  return out;
}

io::Checkpoint last_checkpoint(const std::string& run) {
  return io::load_checkpoint(run + "/checkpoints/last.safetensors");
}

// Every tensor bit for bit, and the same training state.
void expect_identical(const io::Checkpoint& a, const io::Checkpoint& b) {
  ASSERT_EQ(a.tensors.size(), b.tensors.size());
  for (const auto& [name, t] : a.tensors) {
    const io::StoredTensor* u = b.find(name);
    ASSERT_NE(u, nullptr) << name;
    ASSERT_EQ(t.shape, u->shape) << name;
    EXPECT_EQ(0, std::memcmp(t.data.data(), u->data.data(), t.data.size() * sizeof(float)))
        << name << " differs";
  }
  for (const char* key : {"epoch", "step", "rng.data", "rng.dropout", "dropout_key", "recipe"})
    EXPECT_EQ(a.metadata.at(key), b.metadata.at(key)) << key;
}

// The records two runs must agree on: everything but times and throughput.
void expect_same_records(const std::vector<nlohmann::json>& a,
                         const std::vector<nlohmann::json>& b) {
  ASSERT_EQ(a.size(), b.size());
  for (size_t i = 0; i < a.size(); ++i) {
    nlohmann::json x = a[i], y = b[i];
    for (nlohmann::json* j : {&x, &y}) {
      j->erase("time_s");
      j->erase("samples_per_s");
    }
    EXPECT_EQ(x, y) << "record " << i;
  }
}

// A quick slice of the MLP recipe on two threads (plain progress: no bar in the captured output).
const std::string kQuick =
    " --set output.progress=plain --set data.limit_train=6000 --set data.limit_test=1000 --set "
    "train.threads=2"
    " --set train.seed=11";

// 2 epochs straight vs 1 epoch, then --resume with train.epochs=2. Before resuming, the
// interrupted run's metrics get what a run dying mid-epoch leaves: a record past the checkpoint
// and a torn line; the resumed run must drop them.
void straight_vs_resumed(const std::string& recipe, const std::string& extra) {
  TempDir dir("resume");
  const std::string a = dir.file("straight"), b = dir.file("resumed");
  CliResult r =
      run_cli("train --recipe " + recipe + kQuick + extra + " --set train.epochs=2 --out " + a);
  ASSERT_EQ(r.code, 0) << r.output;
  r = run_cli("train --recipe " + recipe + kQuick + extra + " --set train.epochs=1 --out " + b);
  ASSERT_EQ(r.code, 0) << r.output;
  {
    std::ofstream m(b + "/metrics.jsonl", std::ios::app);
    m << R"({"event":"step","step":50,"epoch":2,"loss":9.0})"
      << "\n"
      << R"({"event":"st)";
  }
  r = run_cli("train --resume " + b + " --set train.epochs=2");
  ASSERT_EQ(r.code, 0) << r.output;
  EXPECT_NE(r.output.find("resuming " + b + " at epoch 2 of 2"), std::string::npos) << r.output;

  expect_identical(last_checkpoint(a), last_checkpoint(b));
  const auto ma = read_metrics(a), mb = read_metrics(b);
  const auto epochs_a = events(ma, "epoch");
  ASSERT_EQ(epochs_a.size(), 2u);
  expect_same_records(epochs_a, events(mb, "epoch"));
  expect_same_records(events(ma, "step"), events(mb, "step"));
  // One end record, last; one resume record saying where and what was dropped (the first
  // session's end, the record past the checkpoint and the torn line).
  ASSERT_EQ(events(mb, "end").size(), 1u);
  EXPECT_EQ(mb.back()["event"], "end");
  expect_same_records(events(ma, "end"), events(mb, "end"));
  const auto resumes = events(mb, "resume");
  ASSERT_EQ(resumes.size(), 1u);
  EXPECT_EQ(resumes[0]["epoch"], 1);
  EXPECT_EQ(resumes[0]["step"], epochs_a[0]["step"]);
  EXPECT_EQ(resumes[0]["dropped"], 3);
  // The run directory's recipe now says 2 epochs, like the straight run's.
  std::ifstream ra(a + "/recipe.toml"), rb(b + "/recipe.toml");
  std::stringstream sa, sb;
  sa << ra.rdbuf();
  sb << rb.rdbuf();
  EXPECT_EQ(sa.str(), sb.str());

  // Resuming the finished run does nothing and says so.
  const std::string before = last_checkpoint(b).metadata.at("step");
  r = run_cli("train --resume " + b);
  EXPECT_EQ(r.code, 0) << r.output;
  EXPECT_NE(r.output.find("already complete"), std::string::npos) << r.output;
  EXPECT_EQ(events(read_metrics(b), "epoch").size(), 2u);
  EXPECT_EQ(last_checkpoint(b).metadata.at("step"), before);
}

TEST(Resume, SgdNesterovResumedEqualsStraightBitForBit) {
  SCULPT_REQUIRE(have_fashion(), "Fashion-MNIST not installed (scripts/deps.sh installs dataset-fashion-mnist)");
  straight_vs_resumed(recipe_path("mlp.toml"), "");
}

TEST(Resume, AdamResumedEqualsStraightBitForBit) {
  SCULPT_REQUIRE(have_fashion(), "Fashion-MNIST not installed (scripts/deps.sh installs dataset-fashion-mnist)");
  straight_vs_resumed(recipe_path("mlp.toml"), " --set optim.name=adam --set optim.lr=0.001");
}

// train.precision = "bf16": the master weights and optimizer state are fp32, so a bf16 run
// checkpoints and resumes exactly too.
TEST(Resume, Bf16ResumedEqualsStraightBitForBit) {
  SCULPT_REQUIRE(have_fashion(), "Fashion-MNIST not installed (scripts/deps.sh installs dataset-fashion-mnist)");
  straight_vs_resumed(recipe_path("mlp.toml"), " --set train.precision=bf16");
}

// No built-in recipe has dropout: the MLP with a dropout layer, written here.
TEST(Resume, DropoutModelResumedEqualsStraightBitForBit) {
  SCULPT_REQUIRE(have_fashion(), "Fashion-MNIST not installed (scripts/deps.sh installs dataset-fashion-mnist)");
  TempDir dir("dropout-recipe");
  const std::string recipe = dir.write("dropout.toml", R"([data]
source = "fashion-mnist"
path = "/usr/share/datasets/fashion-mnist"
[model]
[[model.layers]]
type = "flatten"
[[model.layers]]
type = "linear"
name = "fc1"
out = 128
[[model.layers]]
type = "relu"
[[model.layers]]
type = "dropout"
p = 0.25
[[model.layers]]
type = "linear"
name = "fc2"
out = 10
[optim]
name = "sgd"
lr = 0.05
momentum = 0.9
nesterov = true
[train]
batch_size = 64
)");
  straight_vs_resumed(recipe, "");
}

// A one-epoch run of the synthetic binary recipe (no data set needed): the bad-input tests
// damage copies of it.
std::string quick_binary_run(const TempDir& dir, const std::string& name,
                             const std::string& extra = "") {
  const std::string run = dir.file(name);
  CliResult r = run_cli("train -q --recipe " + recipe_path("binary.toml") +
                        " --set train.epochs=1" + extra + " --out " + run);
  EXPECT_EQ(r.code, 0) << r.output;
  return run;
}

TEST(Resume, MissingRunDirectoryIsAnIoErrorNamingIt) {
  TempDir dir("resume-missing");
  const std::string gone = dir.file("no-such-run");
  CliResult r = run_cli("train --resume " + gone);
  EXPECT_EQ(r.code, 3) << r.output;
  EXPECT_NE(r.output.find(gone + ": no such run directory"), std::string::npos) << r.output;

  fs::create_directories(gone);  // a directory, but not a run's
  r = run_cli("train --resume " + gone);
  EXPECT_EQ(r.code, 3) << r.output;
  EXPECT_NE(r.output.find("recipe.toml"), std::string::npos) << r.output;
}

// The step files of a run, newest first.
std::vector<std::string> step_checkpoints(const std::string& run) {
  std::vector<std::string> out;
  for (const auto& e : fs::directory_iterator(run + "/checkpoints"))
    if (e.path().filename().string().starts_with("step-")) out.push_back(e.path().string());
  std::sort(out.rbegin(), out.rend());
  return out;
}

// A damaged newest checkpoint (a truncated file, a flipped data byte) is skipped with a warning
// naming it, and the run resumes from the one before.
TEST(Resume, DamagedNewestCheckpointIsSkippedWithAWarning) {
  TempDir dir("resume-trunc");
  const std::string run = quick_binary_run(dir, "run");
  const std::vector<std::string> steps = step_checkpoints(run);
  ASSERT_EQ(steps.size(), 2u);  // at the start and after the epoch
  fs::resize_file(steps[0], fs::file_size(steps[0]) / 2);  // last.safetensors is the same file
  CliResult r =
      run_cli("train --resume " + run + " --set train.epochs=2 --set output.progress=plain");
  EXPECT_EQ(r.code, 0) << r.output;
  EXPECT_NE(r.output.find("warning: skipping a damaged checkpoint: " + steps[0]),
            std::string::npos)
      << r.output;
  EXPECT_NE(r.output.find("resuming " + run + " at epoch 1 of 2 (step 0)"), std::string::npos)
      << r.output;
}

// When no checkpoint loads, the newest one's error is the only line.
TEST(Resume, NoLoadableCheckpointIsOneErrorNamingTheNewest) {
  TempDir dir("resume-bad");
  const std::string run = quick_binary_run(dir, "run");
  const std::vector<std::string> steps = step_checkpoints(run);
  for (const std::string& f : steps) {
    std::fstream io(f, std::ios::in | std::ios::out | std::ios::binary);
    io.seekp(-3, std::ios::end);
    io.put('\x7f');  // inside the last tensor's data: only the checksum notices
  }
  CliResult r = run_cli("train --resume " + run + " --set train.epochs=2");
  EXPECT_EQ(r.code, 3) << r.output;
  EXPECT_NE(r.output.find(steps[0] + ": checksum mismatch"), std::string::npos) << r.output;
  EXPECT_EQ(std::count(r.output.begin(), r.output.end(), '\n'), 1) << r.output;

  fs::remove_all(run + "/checkpoints");
  fs::create_directories(run + "/checkpoints");
  r = run_cli("train --resume " + run + " --set train.epochs=2");
  EXPECT_EQ(r.code, 3) << r.output;
  EXPECT_NE(r.output.find(run + "/checkpoints: the run has no checkpoint"), std::string::npos)
      << r.output;
  EXPECT_EQ(std::count(r.output.begin(), r.output.end(), '\n'), 1) << r.output;
}

TEST(Resume, ForbiddenChangesAreConfigErrorsNamingTheKey) {
  TempDir dir("resume-set");
  const std::string run = quick_binary_run(dir, "run");
  const auto before = fs::last_write_time(run + "/checkpoints/last.safetensors");
  CliResult r = run_cli("train --resume " + run + " --set train.epochs=3 --set optim.lr=0.5");
  EXPECT_EQ(r.code, 2) << r.output;
  EXPECT_NE(r.output.find("--set optim.lr on --resume"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("same run"), std::string::npos) << r.output;
  EXPECT_EQ(r.output.find("train.epochs on"), std::string::npos) << r.output;

  r = run_cli("train --resume " + run + " --recipe " + recipe_path("binary.toml"));
  EXPECT_EQ(r.code, 2) << r.output;
  EXPECT_NE(r.output.find("--recipe and --resume cannot be combined"), std::string::npos)
      << r.output;

  r = run_cli("train");
  EXPECT_EQ(r.code, 2) << r.output;
  EXPECT_NE(r.output.find("--resume RUN_DIR"), std::string::npos) << r.output;

  // recipe.toml edited by hand after the checkpoint: refused, naming the key.
  std::ifstream in(run + "/recipe.toml");
  std::stringstream text;
  text << in.rdbuf();
  std::string toml = text.str();
  const size_t at = toml.find("batch_size = 32");
  ASSERT_NE(at, std::string::npos) << toml;
  toml.replace(at, 15, "batch_size = 16");
  std::ofstream(run + "/recipe.toml") << toml;
  r = run_cli("train --resume " + run + " --set train.epochs=3");
  EXPECT_EQ(r.code, 2) << r.output;
  EXPECT_NE(r.output.find("train.batch_size (checkpoint 32, now 16)"), std::string::npos)
      << r.output;
  EXPECT_EQ(fs::last_write_time(run + "/checkpoints/last.safetensors"), before);
}

// The SGD-momentum run's checkpoint in an Adam run's directory: every mismatch in one error.
TEST(Resume, AnotherOptimizersCheckpointListsEveryMismatch) {
  TempDir dir("resume-optim");
  const std::string sgd = quick_binary_run(dir, "sgd");
  const std::string adam = quick_binary_run(dir, "adam", " --set optim.name=adam");
  fs::copy_file(sgd + "/checkpoints/last.safetensors", adam + "/checkpoints/last.safetensors",
                fs::copy_options::overwrite_existing);
  CliResult r = run_cli("train --resume " + adam + " --set train.epochs=2");
  EXPECT_EQ(r.code, 3) << r.output;
  for (const char* layer : {"fc1", "fc2", "fc3"})
    for (const char* p : {".weight", ".bias"})
      for (const char* state : {"opt.exp_avg.", "opt.exp_avg_sq.", "opt.momentum."})
        EXPECT_NE(r.output.find(std::string(state) + layer + p), std::string::npos)
            << state << layer << p << " in " << r.output;
  EXPECT_NE(r.output.find("missing opt.exp_avg."), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("unexpected opt.momentum."), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("optimizer 'sgd'"), std::string::npos) << r.output;
  EXPECT_EQ(events(read_metrics(adam), "resume").size(), 0u);  // nothing was touched
}

}  // namespace
}  // namespace sculpt::testing

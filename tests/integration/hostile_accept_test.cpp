// Issue 28, silent acceptance: inputs that exited 0 with a wrong or meaningless result are one
// error line now: a directory as the recipe, a CSV too small for a test split, labels the model
// cannot predict, non-finite weights or a mask of 0.5 in a checkpoint with a valid checksum,
// bad `sculpt prune` options, a checkpoint of another format or of a newer version, and an
// epoch count no run reaches.
#include <gtest/gtest.h>
#include <zlib.h>

#include <cmath>
#include <cstring>
#include <limits>
#include <string>

#include "integration/hostile_harness.h"
#include "io/checkpoint.h"

namespace sculpt::testing {
namespace {

const std::string kLast = "/checkpoints/last.safetensors";

// Every checkpoint file of the run (the step files and last.safetensors): eval reads the last,
// a resume the newest that loads, so a test breaks them all.
std::vector<std::string> checkpoint_files(const std::string& run) {
  std::vector<std::string> out;
  for (const auto& e : std::filesystem::directory_iterator(run + "/checkpoints"))
    if (e.path().extension() == ".safetensors") out.push_back(e.path().string());
  return out;
}

// Rewrites each of them through the library (a valid version-3 checksum) after `change`.
template <class F>
void rewrite_checkpoint(const std::string& run, F change) {
  for (const std::string& path : checkpoint_files(run)) {
    io::Checkpoint ck = io::load_checkpoint(path);
    change(ck);
    std::vector<io::NamedTensor> tensors;
    for (const auto& [name, t] : ck.tensors) tensors.push_back({name, t.shape, t.data.data()});
    std::filesystem::remove(path);  // a new file: the step file and its hard link part ways
    io::save_checkpoint(path, tensors, ck.metadata);
  }
}

TEST(HostileAccept, ADirectoryAsTheRecipeIsAnIoError) {
  TempDir dir("ha-recipe-dir");
  const CliResult r = run_cli("train -q -r " + dir.path() + " -o " + dir.file("run"));
  expect_one_error_line(r, 3, dir.path() + ": is a directory, not a recipe");
  EXPECT_FALSE(std::filesystem::exists(dir.file("run")));
}

TEST(HostileAccept, ACsvTooSmallForATestSplitIsADataError) {
  TempDir dir("ha-one-row");
  const std::string csv = dir.write("one.csv", "a,b,label\n1,2,0\n");
  const CliResult r =
      run_cli("train -q -r " + recipe_path("binary.toml") +
              " --set data.source=csv --set data.target=label --set data.path=" + csv + " -o " +
              dir.file("run"));
  expect_one_error_line(r, 3, "the test split of " + csv + "/test is empty (1 sample in all)");
  EXPECT_NE(r.output.find("data.test_fraction"), std::string::npos) << r.output;
  EXPECT_FALSE(std::filesystem::exists(dir.file("run")));
}

TEST(HostileAccept, InferLabelsOutsideTheModelsClassesAreADataErrorNamingTheRow) {
  TempDir dir("ha-labels");
  const std::string model = hostile_export(hostile_run(dir));  // binary: classes 0 and 1
  const std::string csv = dir.write("y.csv", "a,b,c,d,label\n1,2,3,4,0\n4,5,6,7,7\n");
  expect_one_error_line(run_cli("infer -m " + model + " -i " + csv), 3,
                        "y.csv:3: label 7 is not one of the model's 2 classes");
  const std::string frac = dir.write("f.csv", "a,b,c,d,label\n1,2,3,4,0.5\n");
  expect_one_error_line(run_cli("infer -m " + model + " -i " + frac), 3,
                        "f.csv:2: label 0.5 is not one of the model's 2 classes");
  const std::string good = dir.write("g.csv", "a,b,c,d,label\n1,2,3,4,0\n4,5,6,7,1\n");
  const CliResult ok = run_cli("infer -m " + model + " -i " + good);
  EXPECT_EQ(ok.code, 0) << ok.output;
  EXPECT_NE(ok.output.find("accuracy:"), std::string::npos) << ok.output;
}

TEST(HostileAccept, NonFiniteWeightsWithAValidChecksumAreRefusedByEval) {
  TempDir dir("ha-nan-eval");
  for (const float bad :
       {std::numeric_limits<float>::quiet_NaN(), -std::numeric_limits<float>::infinity()}) {
    const std::string run = hostile_run(dir, std::isnan(bad) ? "nan" : "inf");
    rewrite_checkpoint(run, [&](io::Checkpoint& ck) { ck.tensors.at("fc2.bias").data[1] = bad; });
    expect_one_error_line(run_cli("eval -m " + run), 4, "tensor 'fc2.bias' entry 1 is not finite");
  }
}

TEST(HostileAccept, AMaskOfOneHalfIsRefusedByEval) {
  TempDir dir("ha-mask");
  const std::string run = hostile_run(dir);
  // A 0/1 mask evaluates; the same mask with one entry 0.5 does not.
  rewrite_checkpoint(run, [](io::Checkpoint& ck) {
    std::map<std::string, io::StoredTensor> masks;
    for (const auto& [name, t] : ck.tensors) {
      if (name.find('.') != name.rfind('.') || name.starts_with("opt.")) continue;
      io::StoredTensor mask = t;
      std::fill(mask.data.begin(), mask.data.end(), 1.0f);
      masks["mask." + name] = mask;
    }
    masks.at("mask.fc1.weight").data[5] = 0.0f;
    ck.tensors.at("fc1.weight").data[5] = 0.0f;
    ck.tensors.merge(masks);
  });
  const CliResult ok = run_cli("eval -m " + run);
  EXPECT_EQ(ok.code, 0) << ok.output;
  rewrite_checkpoint(run,
                     [](io::Checkpoint& ck) { ck.tensors.at("mask.fc1.weight").data[5] = 0.5f; });
  expect_one_error_line(run_cli("eval -m " + run), 3,
                        "mask 'mask.fc1.weight' entry 5 is 0.5; masks hold only 0 and 1");
}

TEST(HostileAccept, BadPruneOptionsAreConfigErrors) {
  TempDir dir("ha-prune-opts");
  const std::string run = hostile_run(dir);
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"--granularity bogus", "prune.granularity must be one of unstructured | n:m | neuron"},
      {"--criterion bogus", "prune.criterion must be one of"},
      {"--scope everywhere", "prune.scope must be one of global | layer"},
      {"--batches 0", "prune.batches must be >= 1, got 0"},
      {"--finetune-lr nan", "--finetune-lr: must be a finite rate >= 0, got nan"},
      {"--finetune-lr -1", "--finetune-lr: must be a finite rate >= 0, got -1"},
      {"--sparsity nan", "--sparsity must be in [0, 1), got nan"},
  };
  for (const auto& [option, message] : cases) {
    SCOPED_TRACE(option);
    const std::string sparsity = option.starts_with("--sparsity") ? "" : " --sparsity 0.5";
    const CliResult r =
        run_cli("prune -c " + run + " " + option + sparsity + " -o " + dir.file("p"));
    expect_one_error_line(r, 2, message);
    EXPECT_FALSE(std::filesystem::exists(dir.file("p")));
  }
  expect_one_error_line(run_cli("prune -c " + run + " --threshold inf -o " + dir.file("p")), 2,
                        "--threshold: must be a finite number, got inf");
}

TEST(HostileAccept, ACheckpointOfAnotherFormatOrANewerVersionIsRefused) {
  TempDir dir("ha-format");
  const std::string run = hostile_run(dir);
  std::vector<std::pair<std::string, std::string>> originals;
  for (const std::string& path : checkpoint_files(run)) {
    originals.emplace_back(path, file_bytes(path));
    std::filesystem::remove(path);  // its own inode: hard links would share the edits below
  }
  // The metadata as written, then one value changed in place (same length: the offsets hold) (the
  // checksum then fails too, so the message says which check came first: the format and the version
  // are read before it).
  const std::vector<std::tuple<std::string, std::string, std::string>> cases = {
      {R"("format":"sculpt-checkpoint")", R"("format":"pytorch-statedict")",
       "not a Sculpt checkpoint: its format is 'pytorch-statedict', not 'sculpt-checkpoint'"},
      {R"("version":"3")", R"("version":"4")",
       "checkpoint format version 4 is newer than this sculpt reads (3)"},
      {R"("version":"3")", R"("version":"x")", "the checkpoint's format version 'x' is not valid"},
  };
  for (const auto& [from, to, message] : cases) {
    SCOPED_TRACE(to);
    for (const auto& [path, original] : originals) {
      std::string bytes = original;
      const size_t at = bytes.find(from);
      ASSERT_NE(at, std::string::npos);
      bytes.replace(at, from.size(), to);
      put_file_bytes(path, bytes);
    }
    for (const std::string verb : {"eval -m ", "export -c ", "prune --sparsity 0.5 -c "})
      expect_one_error_line(run_cli(verb + run), 3, message);
    expect_one_error_line(run_cli("train -q --resume " + run), 3, message);
  }
}

TEST(HostileAccept, AnEpochCountNoRunReachesIsNotTakenAsComplete) {
  TempDir dir("ha-epoch");
  const std::string run = hostile_run(dir);
  rewrite_checkpoint(run, [](io::Checkpoint& ck) {
    ck.metadata["epoch"] = std::to_string(std::numeric_limits<int64_t>::max());
  });
  CliResult r = run_cli("train -q --resume " + run);
  expect_one_error_line(r, 3, "the checkpoint's training state is damaged: epoch");
  EXPECT_EQ(r.output.find("already complete"), std::string::npos) << r.output;
  // A count within the limits but beyond the checkpoint's own recipe.
  rewrite_checkpoint(run, [](io::Checkpoint& ck) { ck.metadata["epoch"] = "5"; });
  r = run_cli("train -q --resume " + run);
  expect_one_error_line(r, 3,
                        "the checkpoint says 5 epochs are done, but its own recipe has "
                        "train.epochs = 1");
}

}  // namespace
}  // namespace sculpt::testing

// Bad input through the real CLI: one clear message naming the file/field/row, and the exit
// code of its kind (2 usage/config, 3 data/IO), never a crash.
#include <fmt/format.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "integration/cli_harness.h"
#include "skip.h"

namespace sculpt::testing {
namespace {

namespace fs = std::filesystem;

void put_be32(std::string& s, uint32_t v) {
  for (int sh = 24; sh >= 0; sh -= 8) s.push_back(static_cast<char>((v >> sh) & 0xff));
}

std::string idx_images(uint32_t magic, uint32_t n) {
  std::string s;
  put_be32(s, magic);
  put_be32(s, n);
  put_be32(s, 28);
  put_be32(s, 28);
  for (uint32_t i = 0; i < n * 28 * 28; ++i) s.push_back(static_cast<char>((i * 37) % 256));
  return s;
}

std::string idx_labels(uint32_t n, uint8_t bad_label = 255, uint32_t bad_at = 0) {
  std::string s;
  put_be32(s, 0x801);
  put_be32(s, n);
  for (uint32_t i = 0; i < n; ++i)
    s.push_back(static_cast<char>(i == bad_at && bad_label != 255 ? bad_label : i % 10));
  return s;
}

// A tiny IDX dataset directory (plain files); the test then breaks one part of it.
struct IdxDir {
  TempDir dir{"idx"};
  IdxDir() {
    dir.write("train-images-idx3-ubyte", idx_images(0x803, 60));
    dir.write("train-labels-idx1-ubyte", idx_labels(60));
    dir.write("t10k-images-idx3-ubyte", idx_images(0x803, 20));
    dir.write("t10k-labels-idx1-ubyte", idx_labels(20));
  }
  CliResult train() const {
    return run_cli("train -q --recipe " + recipe_path("mlp.toml") + " --out " + dir.file("run") +
                   " --set data.source=idx --set data.path=" + dir.path() +
                   " --set train.epochs=1 --set data.val_fraction=0.1");
  }
};

TEST(BadInput, TinyIdxDatasetTrainsCleanly) {
  IdxDir d;
  CliResult r = d.train();
  EXPECT_EQ(r.code, 0) << r.output;
}

TEST(BadInput, MissingDatasetFileIsAnIoErrorNamingThePath) {
  CliResult r = run_cli("train -q --recipe " + recipe_path("mlp.toml") +
                        " --set data.path=/nonexistent/fashion --out /tmp/sculpt-it-missing");
  EXPECT_EQ(r.code, 3) << r.output;
  EXPECT_NE(r.output.find("/nonexistent/fashion"), std::string::npos) << r.output;
  fs::remove_all("/tmp/sculpt-it-missing");
}

TEST(BadInput, TruncatedGzipIsADataErrorNamingTheFile) {
  IdxDir d;
  const std::string src = std::string(kFashionDir) + "/train-images-idx3-ubyte.gz";
  SCULPT_REQUIRE(fs::exists(src),
                 "Fashion-MNIST not installed (scripts/deps.sh installs dataset-fashion-mnist)");
  fs::remove(d.dir.file("train-images-idx3-ubyte"));
  std::ifstream in(src, std::ios::binary);
  std::string head(20000, '\0');
  in.read(head.data(), static_cast<std::streamsize>(head.size()));
  d.dir.write("train-images-idx3-ubyte.gz", head);
  CliResult r = d.train();
  EXPECT_EQ(r.code, 3) << r.output;
  EXPECT_NE(r.output.find("train-images-idx3-ubyte.gz"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("truncated"), std::string::npos) << r.output;
}

TEST(BadInput, WrongIdxMagicIsNamed) {
  IdxDir d;
  d.dir.write("train-images-idx3-ubyte", idx_images(0x1234, 60));
  CliResult r = d.train();
  EXPECT_EQ(r.code, 3) << r.output;
  EXPECT_NE(r.output.find("train-images-idx3-ubyte"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("magic"), std::string::npos) << r.output;
}

TEST(BadInput, ImageLabelCountMismatchNamesBothCounts) {
  IdxDir d;
  d.dir.write("train-labels-idx1-ubyte", idx_labels(59));
  CliResult r = d.train();
  EXPECT_EQ(r.code, 3) << r.output;
  EXPECT_NE(r.output.find("60"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("59"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("train-labels-idx1-ubyte"), std::string::npos) << r.output;
}

TEST(BadInput, LabelOutsideTheClassRangeNamesTheItem) {
  IdxDir d;
  d.dir.write("train-labels-idx1-ubyte", idx_labels(60, /*bad_label=*/12, /*bad_at=*/33));
  CliResult r = d.train();
  EXPECT_EQ(r.code, 3) << r.output;
  EXPECT_NE(r.output.find("12"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("33"), std::string::npos) << r.output;
}

CliResult train_csv(const TempDir& dir, const std::string& csv) {
  const std::string path = dir.write("data.csv", csv);
  return run_cli("train -q --recipe " + recipe_path("binary.toml") + " --out " + dir.file("run") +
                 " --set data.source=csv --set data.path=" + path + " --set data.target=label");
}

TEST(BadInput, CsvNonNumericCellNamesRowAndColumn) {
  TempDir dir("csv1");
  CliResult r = train_csv(dir, "a,b,label\n1,2,0\n3,x7,1\n5,6,0\n");
  EXPECT_EQ(r.code, 3) << r.output;
  EXPECT_NE(r.output.find("data.csv:3"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("'b'"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("x7"), std::string::npos) << r.output;
}

TEST(BadInput, CsvNaNNamesRowAndColumn) {
  TempDir dir("csv2");
  CliResult r = train_csv(dir, "a,b,label\n1,2,0\n3,4,1\nnan,6,0\n");
  EXPECT_EQ(r.code, 3) << r.output;
  EXPECT_NE(r.output.find("data.csv:4"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("'a'"), std::string::npos) << r.output;
}

TEST(BadInput, UnknownRecipeKeySuggestsTheRightOne) {
  TempDir dir("key");
  const std::string recipe = dir.write("r.toml", "[optim]\nlrr = 0.1\n");
  CliResult r = run_cli("train -q --recipe " + recipe);
  EXPECT_EQ(r.code, 2) << r.output;
  EXPECT_NE(r.output.find("lrr"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("did you mean 'lr'"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("r.toml"), std::string::npos) << r.output;
}

TEST(BadInput, NegativeLearningRateIsRejectedByName) {
  CliResult r = run_cli("train -q --recipe " + recipe_path("mlp.toml") + " --set optim.lr=-0.1");
  EXPECT_EQ(r.code, 2) << r.output;
  EXPECT_NE(r.output.find("optim.lr"), std::string::npos) << r.output;
}

TEST(BadInput, AnOptionOfAnotherOptimizerNamesTheOptimizerAndItsKeys) {
  TempDir dir("optopt");
  const std::string recipe = dir.write("r.toml", "[optim]\nname = \"sgd\"\nbeta1 = 0.9\n");
  CliResult r = run_cli("train -q --recipe " + recipe);
  EXPECT_EQ(r.code, 2) << r.output;
  EXPECT_NE(r.output.find("optim.beta1 is not a field of optim.name = \"sgd\""), std::string::npos)
      << r.output;
  EXPECT_NE(r.output.find("r.toml:3"), std::string::npos) << r.output;  // the line of beta1
  EXPECT_NE(r.output.find("momentum"), std::string::npos) << r.output;  // what sgd takes
}

TEST(BadInput, AdamBetaOfOneIsRejectedByName) {
  CliResult r = run_cli("train -q --recipe " + recipe_path("mlp.toml") +
                        " --set optim.name=adam --set optim.beta2=1");
  EXPECT_EQ(r.code, 2) << r.output;
  EXPECT_NE(r.output.find("optim.beta2 must be in [0, 1), got 1"), std::string::npos) << r.output;
}

TEST(BadInput, UnknownOptimizerSuggestsTheClosest) {
  CliResult r = run_cli("train -q --recipe " + recipe_path("mlp.toml") + " --set optim.name=adamm");
  EXPECT_EQ(r.code, 2) << r.output;
  EXPECT_NE(r.output.find("adamm"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("did you mean 'adam"), std::string::npos) << r.output;
}

TEST(BadInput, ParameterGroupMatchingNothingListsTheParameters) {
  TempDir dir("groups");
  const std::string recipe =
      dir.write("r.toml",
                "[data]\nlimit_train = 200\nlimit_test = 100\n[optim]\nname = \"adam\"\n"
                "[[optim.groups]]\nparams = \"*.bais\"\nweight_decay = 0.0\n");
  CliResult r = run_cli("train -q --recipe " + recipe + " --out " + dir.file("run"));
  EXPECT_EQ(r.code, 2) << r.output;
  EXPECT_NE(r.output.find("optim.groups[0].params \"*.bais\" matches no parameter"),
            std::string::npos)
      << r.output;
  EXPECT_NE(r.output.find("fc1.bias"), std::string::npos) << r.output;
  EXPECT_FALSE(std::filesystem::exists(dir.file("run")))
      << "no run dir for a run that cannot start";
}

// The issue's list for schedules: T <= 0, milestones not increasing, plateau factor >= 1,
// warmup longer than the run, a misspelled unit: exit 2, one line naming the field, no run dir.
TEST(BadInput, BadScheduleValuesNameTheField) {
  TempDir dir("sched");
  const std::string base = "[data]\nlimit_train = 300\nlimit_test = 100\n[train]\nepochs = 2\n";
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"[schedule]\nname = \"step\"\nstep_size = 0\n", "schedule.step_size must be > 0, got 0"},
      {"[schedule]\nname = \"cosine-restarts\"\nperiod = -1\n", "schedule.period must be > 0"},
      {"[schedule]\nname = \"cosine\"\ntotal = -2\n", "schedule.total must be >= 0, got -2"},
      {"[schedule]\nname = \"multistep\"\nmilestones = [2, 1]\n",
       "schedule.milestones must increase, but 1 follows 2"},
      {"[schedule]\n[schedule.plateau]\nfactor = 1.5\n",
       "schedule.plateau.factor must be in (0, 1)"},
      {"[schedule]\nname = \"cosine\"\nwarmup = 3\n",
       "schedule.warmup = 3 epochs is not shorter than the run (2 epochs)"},
      {"[schedule]\nunit = \"epochs\"\n", "schedule.unit must be one of epoch | step | run"},
      {"[schedule]\nname = \"cosine\"\nstep_size = 2\n",
       "schedule.step_size is not a field of schedule.name = \"cosine\""},
  };
  for (size_t i = 0; i < cases.size(); ++i) {
    const std::string recipe = dir.write(fmt::format("r{}.toml", i), base + cases[i].first);
    const std::string run = dir.file(fmt::format("run{}", i));
    CliResult r = run_cli("train -q --recipe " + recipe + " --out " + run);
    EXPECT_EQ(r.code, 2) << r.output;
    EXPECT_NE(r.output.find(cases[i].second), std::string::npos) << r.output;
    EXPECT_EQ(std::count(r.output.begin(), r.output.end(), '\n'), 1) << r.output;
    EXPECT_FALSE(fs::exists(run)) << "no run dir for a run that cannot start";
  }
}

TEST(BadInput, BatchSizeZeroIsRejectedByName) {
  CliResult r =
      run_cli("train -q --recipe " + recipe_path("mlp.toml") + " --set train.batch_size=0");
  EXPECT_EQ(r.code, 2) << r.output;
  EXPECT_NE(r.output.find("train.batch_size"), std::string::npos) << r.output;
}

TEST(BadInput, LayersThatDoNotChainNameTheLayer) {
  TempDir dir("chain");
  const std::string recipe = dir.write("r.toml", R"(
[data]
source = "synthetic-blobs"
[model]
[[model.layers]]
type = "linear"
out = 16
[[model.layers]]
type = "maxpool2d"
name = "pool_here"
kernel = 2
[[model.layers]]
type = "linear"
out = 1
)");
  CliResult r = run_cli("train -q --recipe " + recipe + " --out " + dir.file("run"));
  EXPECT_EQ(r.code, 2) << r.output;
  EXPECT_NE(r.output.find("pool_here"), std::string::npos) << r.output;
}

// Every file of tests/data/bad/<kind>/ (written by fuzz/make_corpus.py) given to the command
// that reads that kind: a non-zero exit of its error kind, exactly one line that names the file
// and says what is wrong, never a crash, "out of memory" or an internal error.
CliResult run_on_bad_file(const std::string& kind, const fs::path& file, const TempDir& dir) {
  const std::string f = file.string();
  const std::string out = " --out " + dir.file("run");
  if (kind == "idx") {
    // Replaces one file of a good dataset: images-* the training images, labels-* the labels.
    IdxDir d;
    std::string slot = file.filename().string().rfind("labels-", 0) == 0
                           ? "train-labels-idx1-ubyte"
                           : "train-images-idx3-ubyte";
    if (file.extension() == ".gz") {
      fs::remove(d.dir.file(slot));
      slot += ".gz";
    }
    fs::copy_file(file, d.dir.file(slot), fs::copy_options::overwrite_existing);
    return d.train();
  }
  if (kind == "csv")
    return run_cli("train -q --recipe " + recipe_path("binary.toml") + out +
                   " --set data.source=csv --set data.target=label --set data.path=" + f);
  if (kind == "recipe") return run_cli("train -q --recipe " + f + out);
  if (kind == "checkpoint") return run_cli("export -c " + f + " -o " + dir.file("m.sculpt"));
  const std::string csv = dir.write("x.csv", "x1,x2,x3,label\n1,2,3,0\n4,5,6,1\n");
  return run_cli("infer -m " + f + " -i " + csv + " --target label");
}

TEST(BadInput, EveryHostileFileGivesOneClearErrorLine) {
  const fs::path root = fs::path(SCULPT_SOURCE_DIR) / "tests/data/bad";
  int files = 0;
  for (const std::string kind : {"idx", "csv", "recipe", "checkpoint", "export"}) {
    std::vector<fs::path> paths;
    for (const auto& e : fs::directory_iterator(root / kind)) paths.push_back(e.path());
    std::sort(paths.begin(), paths.end());
    EXPECT_GE(paths.size(), 5u) << kind;
    for (const fs::path& p : paths) {
      SCOPED_TRACE(kind + "/" + p.filename().string());
      TempDir dir("bad-" + kind);
      const CliResult r = run_on_bad_file(kind, p, dir);
      EXPECT_TRUE(r.code == 2 || r.code == 3) << r.code << ": " << r.output;
      EXPECT_EQ(std::count(r.output.begin(), r.output.end(), '\n'), 1) << r.output;
      EXPECT_EQ(r.output.rfind("sculpt: ", 0), 0u) << r.output;
      EXPECT_EQ(r.output.find("out of memory"), std::string::npos) << r.output;
      EXPECT_EQ(r.output.find("internal error"), std::string::npos) << r.output;
      // The message names the file (the idx case: the slot it was copied to).
      const std::string named = kind == "idx" ? "-idx" : p.filename().string();
      EXPECT_NE(r.output.find(named), std::string::npos) << r.output;
      ++files;
    }
  }
  EXPECT_GE(files, 40);
}

TEST(BadInput, UnknownVerbOrMissingRecipeIsAUsageError) {
  EXPECT_EQ(run_cli("frobnicate").code, 2);
  EXPECT_EQ(run_cli("train").code, 2);
  CliResult r = run_cli("train --recipe /nonexistent.toml");
  EXPECT_EQ(r.code, 3) << r.output;
  EXPECT_NE(r.output.find("/nonexistent.toml"), std::string::npos) << r.output;
}

// SCULPT_ISA: an unknown level, or one this CPU cannot run, is one usage error before any work
// (never an illegal instruction); a lower level shows in `sculpt info`.
TEST(BadInput, ABadInstructionSetLevelIsOneClearError) {
  const auto with_isa = [](const std::string& level, const std::string& args) {
    return run_cli_binary("SCULPT_ISA=" + level + " " + std::string(SCULPT_CLI), args);
  };
  CliResult r = with_isa("avx1024", "info");
  EXPECT_EQ(r.code, 2) << r.output;
  EXPECT_EQ(std::count(r.output.begin(), r.output.end(), '\n'), 1) << r.output;
  EXPECT_NE(r.output.find("unknown instruction-set level 'avx1024'"), std::string::npos)
      << r.output;
  EXPECT_NE(r.output.find("SCULPT_ISA"), std::string::npos) << r.output;
  EXPECT_EQ(with_isa("avx1024", "list models").code, 2);  // every verb checks it first
  const CliResult info = run_cli("info");
  ASSERT_EQ(info.code, 0) << info.output;
  if (info.output.find("up to avx512") == std::string::npos) {
    r = with_isa("avx512", "info");
    EXPECT_EQ(r.code, 2) << r.output;
    EXPECT_NE(r.output.find("cannot run the avx512 kernels"), std::string::npos) << r.output;
  }
  if (info.output.find("up to scalar") == std::string::npos) {
    r = with_isa("avx2", "info");
    EXPECT_EQ(r.code, 0) << r.output;
    EXPECT_NE(r.output.find("level: avx2"), std::string::npos) << r.output;
    EXPECT_NE(r.output.find("sparse                 avx2"), std::string::npos) << r.output;
  }
}

}  // namespace
}  // namespace sculpt::testing

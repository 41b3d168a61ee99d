// Reading run directories back: torn, garbage and missing metrics are notes, never errors; a
// path that is not a run and an unreadable recipe are errors naming the path.
#include "report/run_reader.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "core/error.h"

namespace sculpt::report {
namespace {

namespace fs = std::filesystem;

const char* kTwoLines =
    "{\"event\":\"epoch\",\"step\":10,\"epoch\":1,\"loss\":0.5,\"test_acc\":0.8}\n"
    "{\"event\":\"epoch\",\"step\":20,\"epoch\":2,\"loss\":0.4,\"test_acc\":0.85}\n";

bool any_note_has(const std::vector<std::string>& notes, const std::string& text) {
  for (const std::string& n : notes)
    if (n.find(text) != std::string::npos) return true;
  return false;
}

class RunDir : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("sculpt-run-reader-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_ / "checkpoints");
  }
  void TearDown() override { fs::remove_all(dir_); }
  void write(const std::string& name, const std::string& text) {
    std::ofstream(dir_ / name, std::ios::binary) << text;
  }
  fs::path dir_;
};

TEST(ParseMetrics, CompleteTextHasEveryRecordAndNoNote) {
  const ParsedMetrics m = parse_metrics(kTwoLines);
  ASSERT_EQ(m.records.size(), 2u);
  EXPECT_TRUE(m.notes.empty());
  EXPECT_EQ(m.records[1].epoch, 2);
  EXPECT_EQ(m.records[1].test_acc, 0.85);
}

TEST(ParseMetrics, TornLastLineIsLeftOutWithANote) {
  const ParsedMetrics m = parse_metrics(std::string(kTwoLines) + "{\"event\":\"epoch\",\"ste");
  EXPECT_EQ(m.records.size(), 2u);
  ASSERT_EQ(m.notes.size(), 1u);
  EXPECT_NE(m.notes[0].find("partial line"), std::string::npos) << m.notes[0];
}

TEST(ParseMetrics, GarbageLinesAreLeftOutNamingTheFirst) {
  const ParsedMetrics m = parse_metrics(
      "{\"event\":\"step\",\"step\":1}\nnot json at all\n[1,2]\n{\"no_event\":1}\n"
      "{\"event\":\"step\",\"step\":2}\n");
  EXPECT_EQ(m.records.size(), 2u);
  ASSERT_EQ(m.notes.size(), 1u);
  EXPECT_NE(m.notes[0].find("3 line(s)"), std::string::npos) << m.notes[0];
  EXPECT_NE(m.notes[0].find("line 2"), std::string::npos) << m.notes[0];
}

TEST(ParseMetrics, NullBecomesNaNAndUnknownNumbersAreExtras) {
  const ParsedMetrics m =
      parse_metrics("{\"event\":\"step\",\"step\":3,\"loss\":null,\"clip_norm\":2.5,\"s\":\"x\"}\n");
  ASSERT_EQ(m.records.size(), 1u);
  EXPECT_TRUE(std::isnan(m.records[0].loss.value()));
  EXPECT_EQ(m.records[0].extra.at("clip_norm"), 2.5);
  EXPECT_FALSE(m.records[0].extra.count("s"));
}

TEST_F(RunDir, MissingMetricsIsANoteNotAnError) {
  write("recipe.toml", "[optim]\nname = \"adam\"\n");
  const RunData run = read_run(dir_.string());
  EXPECT_TRUE(run.records.empty());
  EXPECT_EQ(run.optimizer, "adam");
  EXPECT_TRUE(any_note_has(run.notes, "no metrics.jsonl")) << ::testing::PrintToString(run.notes);
}

TEST_F(RunDir, RunWithoutEndRecordSaysItWasStopped) {
  write("recipe.toml", "");
  write("metrics.jsonl", std::string(kTwoLines) + "{\"event\":\"ep");
  const RunData run = read_run(dir_.string());
  EXPECT_EQ(run.records.size(), 2u);
  EXPECT_TRUE(any_note_has(run.notes, "partial line"));
  EXPECT_TRUE(any_note_has(run.notes, "no end record"));
}

TEST_F(RunDir, ReadsClipLimitFileSizesAndSensitivity) {
  write("recipe.toml", "[clip]\nname = \"global-norm\"\nmax_norm = 2.5\n");
  write("metrics.jsonl", kTwoLines);
  write("checkpoints/last.safetensors", std::string(1234, 'x'));
  write("checkpoints/step-000000020.safetensors", std::string(1234, 'x'));  // an older copy
  write("model.sculpt", std::string(99, 'x'));
  write("sensitivity.csv", "layer,sparsity,val_acc,val_loss\nfc1,0,0.9,0.3\nfc1,0.5,0.8,0.4\n");
  const RunData run = read_run(dir_.string());
  EXPECT_EQ(run.clipper, "global-norm");
  EXPECT_EQ(run.clip_limit, 2.5);
  ASSERT_EQ(run.files.size(), 2u);
  EXPECT_EQ(run.files[0].path, "checkpoints/last.safetensors");
  EXPECT_EQ(run.files[0].bytes, 1234);
  EXPECT_EQ(run.files[1].path, "model.sculpt");
  ASSERT_EQ(run.sensitivity.size(), 2u);
  EXPECT_EQ(run.sensitivity[1].sparsity, 0.5);
  EXPECT_EQ(run.name, dir_.filename().string());
}

TEST_F(RunDir, UnreadableRecipeIsConfigErrorNamingTheFile) {
  write("recipe.toml", "[optim\nname = ");
  try {
    read_run(dir_.string());
    FAIL() << "no exception";
  } catch (const ConfigError& e) {
    EXPECT_NE(e.where().find((dir_ / "recipe.toml").string()), std::string::npos) << e.what();
  }
}

TEST_F(RunDir, DirectoryWithoutRunFilesIsIoErrorNamingIt) {
  try {
    read_run(dir_.string());
    FAIL() << "no exception";
  } catch (const IoError& e) {
    EXPECT_EQ(e.where(), dir_.string());
    EXPECT_NE(e.hint().find("recipe.toml"), std::string::npos);
  }
  EXPECT_THROW(read_run((dir_ / "nothing-here").string()), IoError);
}

}  // namespace
}  // namespace sculpt::report

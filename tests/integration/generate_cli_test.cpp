// Text generation through the real CLI: a small character LSTM trained on a repeating sentence,
// exported, continues a prompt with the sentence (greedy: exactly; the state carried across the
// prompt decides "cat" or "mat" after "the "); a seed repeats a sampled text; and the bad inputs
// of `sculpt infer --prompt` are one clear error line each, with the exit code of its kind.
#include <gtest/gtest.h>

#include <string>

#include "integration/cli_harness.h"

namespace sculpt::testing {
namespace {

const std::string kSentence = "the cat sat on the mat. ";

// The sentence repeated, from its character `from`, `n` characters long.
std::string repeated_from(size_t from, size_t n) {
  std::string out;
  while (out.size() < n) out += kSentence[(from + out.size()) % kSentence.size()];
  return out;
}

class GenerateCli : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new TempDir("generate");
    std::string text;
    for (int i = 0; i < 300; ++i) text += kSentence;
    const std::string data = dir_->write("text.txt", text);
    // Windows 5 characters apart, so the model sees the sentence from every phase.
    const std::string recipe = dir_->write("r.toml", R"([data]
source = "text"
steps = 32
stride = 5
[[model.layers]]
type = "embedding"
dim = 8
[[model.layers]]
type = "lstm"
hidden = 32
[[model.layers]]
type = "linear"
out = 0
[optim]
name = "adam"
lr = 0.02
[train]
epochs = 6
batch_size = 16
)");
    const std::string run = dir_->file("run");
    CliResult r =
        run_cli("train -q --recipe " + recipe + " --set data.path=" + data + " --out " + run);
    ASSERT_EQ(r.code, 0) << r.output;
    CliResult e = run_cli("export --checkpoint " + run + " --out " + model());
    ASSERT_EQ(e.code, 0) << e.output;
  }
  static void TearDownTestSuite() {
    delete dir_;
    dir_ = nullptr;
  }
  static std::string model() { return dir_->file("m.sculpt"); }
  // stdout and stderr together: the prompt and the text, a newline, then the timing line.
  static CliResult generate(const std::string& prompt, const std::string& more) {
    return run_cli("infer " + model() + " --prompt '" + prompt + "' " + more);
  }
  static TempDir* dir_;
};
TempDir* GenerateCli::dir_ = nullptr;

// Exactly one line, naming what is wrong, with the exit code of its kind.
void expect_error(const CliResult& r, int code, const std::string& part) {
  EXPECT_EQ(r.code, code) << r.output;
  EXPECT_NE(r.output.find(part), std::string::npos) << "expected '" << part << "': " << r.output;
  EXPECT_EQ(std::count(r.output.begin(), r.output.end(), '\n'), 1) << r.output;
}

TEST_F(GenerateCli, GreedyDecodingContinuesTheRepeatingText) {
  // " on the " and "at. the " end alike, and "mat" follows one, "cat" the other: only the
  // state carried through the prompt tells which.
  for (const size_t from : {size_t{0}, size_t{11}, size_t{20}}) {
    const std::string prompt = repeated_from(from, 8);
    const CliResult r = generate(prompt, "--tokens 60 --temperature 0");
    ASSERT_EQ(r.code, 0) << r.output;
    EXPECT_EQ(r.output.substr(0, r.output.find('\n')), repeated_from(from, 68))
        << "prompt '" << prompt << "'";
    EXPECT_NE(r.output.find("generated 60 tokens"), std::string::npos) << r.output;
  }
}

TEST_F(GenerateCli, ASeedRepeatsTheSampledText) {
  const auto text = [&](int seed) {
    const CliResult r = generate("the ", "-n 80 --temperature 4 --seed " + std::to_string(seed));
    EXPECT_EQ(r.code, 0) << r.output;
    return r.output.substr(0, r.output.find('\n'));
  };
  const std::string a = text(1);
  EXPECT_EQ(a.size(), 84u);
  EXPECT_EQ(text(1), a);
  // At temperature 4 the model's near-certain picks are no longer certain: other seeds, other
  // text (only "the " before it, the first pick is a coin toss between "cat" and "mat" anyway).
  EXPECT_TRUE(text(2) != a || text(3) != a) << a;
}

TEST_F(GenerateCli, BadInputsAreOneClearErrorEach) {
  // A character the model never saw: named, with its position and what the model knows.
  const CliResult dog = generate("the dog", "");
  expect_error(dog, 3, "the character 'd' (U+0064) at position 4");
  EXPECT_NE(dog.output.find("the model knows ' .acehmnost' (11 characters)"), std::string::npos)
      << dog.output;
  EXPECT_NE(dog.output.find("byte"), std::string::npos) << dog.output;
  expect_error(generate("", ""), 2, "--prompt is empty");
  expect_error(generate("the ", "--tokens 0"), 2, "--tokens must be in [1, 1,048,576], got 0");
  expect_error(generate("the ", "--tokens 2000000"), 2, "--tokens must be in");
  expect_error(generate("the ", "--temperature -1"), 2, "--temperature must be a finite number");
  expect_error(generate("the ", "--seed -1"), 2, "--seed must be >= 0, got -1");
  for (const char* t : {"nan", "inf"}) {
    const CliResult r = generate("the ", std::string("--temperature ") + t);
    EXPECT_EQ(r.code, 2) << r.output;
    EXPECT_NE(r.output.find("--temperature"), std::string::npos) << r.output;
  }
  expect_error(run_cli("infer " + model() + " --prompt 'the ' --input x.csv"), 2,
               "usage error: --input excludes --prompt");
  expect_error(run_cli("infer " + model()), 2, "usage error: --input is required");
  // A model that is not a text model (a CSV classifier's export).
  const std::string csv_model = std::string(SCULPT_SOURCE_DIR) + "/fuzz/corpus/export/dense.sculpt";
  expect_error(run_cli("infer " + csv_model + " --prompt 'the '"), 2,
               "has no vocabulary: --prompt needs a text model");
}

}  // namespace
}  // namespace sculpt::testing

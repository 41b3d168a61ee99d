// A text model through the public API (include/sculpt): trained by sculpt::Run on a small text,
// exported, loaded as sculpt::InferenceModel; encode/decode round-trip, generate() at temperature
// 0 is the argmax of feed/step at every token, a seed fixes the sampled text, and what the
// vocabulary lacks, an empty prompt, an image model's encode are one clear error each.
#include <gtest/gtest.h>

#include <algorithm>
#include <fstream>
#include <string>
#include <vector>

#include "sculpt/sculpt.h"
#include "unit/temp_dir_test.h"

namespace sculpt {
namespace {

class TextModelApi : public testing::TempDirTest {
 protected:
  // A small character LSTM, one epoch on a text of two sentences.
  InferenceModel trained() {
    std::string text;
    for (int i = 0; i < 60; ++i) text += i % 2 ? "the cat sat on the mat. " : "a dog ran far. ";
    std::ofstream(path("t.txt")) << text;
    const Recipe r =
        Recipe::parse("[data]\nsource = \"text\"\npath = \"" + path("t.txt") +
                          "\"\nsteps = 12\n[[model.layers]]\ntype = \"embedding\"\n"
                          "dim = 8\n[[model.layers]]\ntype = \"lstm\"\nhidden = 16\n"
                          "[[model.layers]]\ntype = \"linear\"\nout = 0\n[optim]\n"
                          "name = \"adam\"\nlr = 0.01\n[train]\nepochs = 1\n"
                          "batch_size = 8\nthreads = 1\n[output]\nprogress = \"none\"\n",
                      "text");
    sculpt::Run run = sculpt::Run::start(r, path("run"));
    run.train();
    return InferenceModel::load(run.export_model(path("model.sculpt")).path);
  }
};

TEST_F(TextModelApi, GeneratesTheArgmaxOfEveryStepAndDecodesWhatItEncodes) {
  InferenceModel m = trained();
  const std::vector<int32_t> ids = m.encode("the cat");
  ASSERT_EQ(ids.size(), 7u);
  EXPECT_EQ(m.decode(ids), "the cat");
  std::string streamed;
  const std::string greedy = m.generate("the cat", {.tokens = 30, .temperature = 0.0},
                                        [&](const std::string& t) { streamed += t; });
  EXPECT_EQ(streamed, greedy);
  const std::vector<int32_t> out = m.encode(greedy);
  ASSERT_EQ(out.size(), 30u);
  m.start();
  std::span<const float> logits = m.feed(ids);
  for (size_t i = 0; i < out.size(); ++i) {
    ASSERT_EQ(out[i], std::max_element(logits.begin(), logits.end()) - logits.begin()) << i;
    logits = m.step(out[i]);
  }
  const GenerateOptions sampled{.tokens = 50, .temperature = 1.0, .seed = 3};
  const std::string once = m.generate("a", sampled);
  EXPECT_EQ(m.generate("a", sampled), once);
  EXPECT_NE(m.generate("a", {.tokens = 50, .temperature = 1.0, .seed = 4}), once);
}

TEST_F(TextModelApi, WhatTheModelCannotTakeIsOneClearError) {
  InferenceModel m = trained();
  try {
    m.encode("the cat!");
    FAIL() << "'!' is not in the text";
  } catch (const DataError& e) {
    EXPECT_NE(std::string(e.what()).find("'!'"), std::string::npos) << e.what();
  }
  EXPECT_THROW(m.generate(""), ConfigError);
  EXPECT_THROW(m.generate("the", {.tokens = 0}), ConfigError);
  EXPECT_THROW(m.decode({0, 999}), DataError);
  EXPECT_THROW(m.step(999), DataError);
}

}  // namespace
}  // namespace sculpt

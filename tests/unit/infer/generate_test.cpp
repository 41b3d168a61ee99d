// Generation (infer/generate.h): greedy decoding takes the argmax of each step's logits and
// repeats itself; a seed gives the same text, another seed another; sample_token draws from
// softmax(logits / T) (frequencies within a few standard errors), a tiny temperature is
// greedy; options out of range are refused by name.
#include "infer/generate.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>

#include "core/error.h"
#include "core/limits.h"
#include "infer_test_util.h"

namespace sculpt::infer {
namespace {

using testing::make_text_net;

constexpr int64_t kGenVocab = 9;

InferenceModel text_model(const char* cell, uint64_t seed) {
  return InferenceModel::from_export(make_text_net(cell, kGenVocab, 10, seed).ex, {}, "test");
}

TEST(Generate, GreedyTakesTheArgmaxOfEveryStep) {
  for (const char* cell : {"lstm", "gru"}) {
    InferenceModel m = text_model(cell, 1);
    const std::vector<int32_t> prompt = {3, 1, 4};
    const GenerateOptions greedy{.tokens = 40, .temperature = 0.0, .seed = 1};
    std::vector<int32_t> seen;
    const std::vector<int32_t> out =
        generate(m, prompt, greedy, [&](int32_t t) { seen.push_back(t); });
    ASSERT_EQ(out.size(), 40u);
    EXPECT_EQ(seen, out);
    // The seed plays no part, and a replay by hand picks the same argmax at every step.
    EXPECT_EQ(generate(m, prompt, {.tokens = 40, .temperature = 0.0, .seed = 99}), out);
    m.start();
    std::span<const float> logits = m.feed(prompt);
    for (size_t i = 0; i < out.size(); ++i) {
      const auto best = std::max_element(logits.begin(), logits.end()) - logits.begin();
      ASSERT_EQ(out[i], best) << cell << " token " << i;
      logits = m.step(out[i]);
    }
  }
}

TEST(Generate, TheSeedFixesTheSampledText) {
  InferenceModel m = text_model("lstm", 2);
  const std::vector<int32_t> prompt = {0, 5};
  const GenerateOptions a{.tokens = 100, .temperature = 1.0, .seed = 7};
  GenerateOptions b = a;
  b.seed = 8;
  const std::vector<int32_t> first = generate(m, prompt, a);
  EXPECT_EQ(generate(m, prompt, a), first);
  EXPECT_NE(generate(m, prompt, b), first);
  EXPECT_NE(generate(m, prompt, {.tokens = 100, .temperature = 0.0}), first);
  for (const int32_t t : first) {
    EXPECT_GE(t, 0);
    EXPECT_LT(t, kGenVocab);
  }
}

TEST(SampleToken, FollowsSoftmaxOfTheLogitsOverTheTemperature) {
  const std::vector<float> logits = {0.0f, std::log(2.0f), std::log(4.0f), -50.0f};
  constexpr int kDraws = 70000;
  for (const double temperature : {1.0, 2.0, 0.5}) {
    // p_i proportional to (1, 2, 4, ~0)^(1 / T).
    std::vector<double> want;
    for (const double base : {1.0, 2.0, 4.0, 0.0}) want.push_back(std::pow(base, 1 / temperature));
    double sum = 0.0;
    for (const double w : want) sum += w;
    Rng rng(11);
    std::vector<int> count(logits.size(), 0);
    for (int i = 0; i < kDraws; ++i) ++count[size_t(sample_token(logits, temperature, rng))];
    for (size_t k = 0; k < logits.size(); ++k) {
      const double p = want[k] / sum, freq = double(count[k]) / kDraws;
      const double se = std::sqrt(p * (1 - p) / kDraws);
      EXPECT_NEAR(freq, p, 5 * se + 1e-4) << "temperature " << temperature << " token " << k;
    }
  }
}

TEST(SampleToken, ATinyTemperatureIsGreedyAndTiesGoToTheFirst) {
  Rng rng(3);
  const std::vector<float> logits = {0.5f, 2.0f, 1.999f, -1.0f};
  for (int i = 0; i < 1000; ++i) ASSERT_EQ(sample_token(logits, 1e-6, rng), 1);
  const Rng before = rng;
  EXPECT_EQ(sample_token(logits, 0.0, rng), 1);
  EXPECT_EQ(rng.state(), before.state()) << "greedy draws nothing";
  EXPECT_EQ(sample_token(std::vector<float>{1.0f, 3.0f, 3.0f}, 0.0, rng), 1);
  EXPECT_EQ(sample_token(std::vector<float>{-2.0f}, 1.0, rng), 0);
}

TEST(Generate, RefusesOptionsOutOfRangeByName) {
  const double inf = std::numeric_limits<double>::infinity();
  const struct {
    GenerateOptions o;
    const char* field;
  } cases[] = {{{.tokens = 0}, "tokens"},
               {{.tokens = kMaxGenerateTokens + 1}, "tokens"},
               {{.temperature = -0.5}, "temperature"},
               {{.temperature = std::nan("")}, "temperature"},
               {{.temperature = inf}, "temperature"}};
  for (const auto& c : cases) {
    try {
      check_generate_options(c.o);
      ADD_FAILURE() << "accepted " << c.field;
    } catch (const ConfigError& e) {
      EXPECT_NE(std::string(e.what()).find(c.field), std::string::npos) << e.what();
    }
  }
  InferenceModel m = text_model("gru", 4);
  EXPECT_THROW(generate(m, std::vector<int32_t>{}, {}), ConfigError);  // an empty prompt
  EXPECT_NO_THROW(check_generate_options({.tokens = kMaxGenerateTokens, .temperature = 0.0}));
}

}  // namespace
}  // namespace sculpt::infer

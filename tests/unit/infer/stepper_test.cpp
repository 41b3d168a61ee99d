// Generation one token at a time (infer/stepper.h through InferenceModel::start/feed/step): the
// logits of each step equal the window forward's at that position, for stacked LSTMs and GRUs
// with dropout between them and a linear layer per position, also past the window's length;
// start() begins again from zero; pruned gate matrices on the CSR kernels give the same logits;
// models that are not text models and bad ids are refused.
#include "infer/stepper.h"

#include <gtest/gtest.h>

#include "core/error.h"
#include "infer/inference_model.h"
#include "infer_test_util.h"

namespace sculpt::infer {
namespace {

using testing::make_text_net;
using testing::random_tokens;

constexpr int64_t kStepVocab = 7, kStepWindow = 12;

void expect_logits_near(std::span<const float> got, const float* want, int64_t k,
                        const std::string& what) {
  ASSERT_EQ(int64_t(got.size()), k) << what;
  for (int64_t j = 0; j < k; ++j)
    ASSERT_NEAR(got[size_t(j)], want[j], 1e-5f * std::max(1.0f, std::abs(want[j])))
        << what << ", logit " << j;
}

std::vector<float> vec(std::span<const float> s) { return {s.begin(), s.end()}; }

class StepperTest : public ::testing::TestWithParam<const char*> {};

TEST_P(StepperTest, EachStepGivesTheWindowsLogitsAtThatPosition) {
  auto net = make_text_net(GetParam(), kStepVocab, kStepWindow, 3);
  InferenceModel m = InferenceModel::from_export(net.ex, {"auto", 4}, "test");
  constexpr int64_t n = 3;
  const std::vector<float> x = random_tokens(n, kStepWindow, kStepVocab, 8);
  const std::vector<float> window = m.predict(x);
  // The runtime's window forward is the trainer's.
  const std::vector<float> reference = net.logits(x, n);
  for (size_t i = 0; i < window.size(); ++i) ASSERT_NEAR(window[i], reference[i], 1e-5f);
  for (int64_t s = 0; s < n; ++s) {
    m.start();
    std::vector<int32_t> tokens;
    for (int64_t t = 0; t < kStepWindow; ++t) {
      tokens.push_back(int32_t(x[size_t(s * kStepWindow + t)]));
      const float* want = window.data() + (s * kStepWindow + t) * kStepVocab;
      expect_logits_near(m.step(tokens.back()), want, kStepVocab,
                         fmt::format("sample {} step {}", s, t));
    }
    // feed() of the whole window from zero: the last position's logits.
    m.start();
    expect_logits_near(m.feed(tokens),
                       window.data() + (s * kStepWindow + kStepWindow - 1) * kStepVocab, kStepVocab,
                       fmt::format("sample {}, fed at once", s));
  }
}

TEST_P(StepperTest, StepsPastTheWindowLengthMatchALongerWindow) {
  auto net = make_text_net(GetParam(), kStepVocab, kStepWindow, 4);
  ExportModel longer = net.ex;
  longer.header.input = {3 * kStepWindow};
  longer.header.outputs = 3 * kStepWindow * kStepVocab;
  InferenceModel window = InferenceModel::from_export(longer, {"auto", 1}, "test");
  InferenceModel m = InferenceModel::from_export(net.ex, {"auto", 1}, "test");
  const std::vector<float> x = random_tokens(1, 3 * kStepWindow, kStepVocab, 9);
  const std::vector<float> want = window.predict(x);
  m.start();
  for (int64_t t = 0; t < 3 * kStepWindow; ++t)
    expect_logits_near(m.step(int32_t(x[size_t(t)])), want.data() + t * kStepVocab, kStepVocab,
                       fmt::format("step {}", t));
}

TEST_P(StepperTest, StartBeginsAgainFromZero) {
  auto net = make_text_net(GetParam(), kStepVocab, kStepWindow, 5);
  InferenceModel m = InferenceModel::from_export(net.ex, {}, "test");
  const std::vector<int32_t> a = {1, 4, 2}, b = {6, 0};
  const std::vector<float> fresh = vec(m.feed(a));      // a first feed starts from zero
  const std::vector<float> continued = vec(m.feed(a));  // the next continues the sequence
  EXPECT_NE(continued, fresh);
  m.start();
  EXPECT_EQ(vec(m.feed(a)), fresh);
  m.start();
  std::vector<float> stepped;
  for (const int32_t t : a) stepped = vec(m.step(t));
  EXPECT_EQ(stepped, fresh);
  m.feed(b);
  m.start();
  EXPECT_EQ(vec(m.feed(a)), fresh);
}

// Pruned gate matrices on the CSR kernels (batch 1) against the trainer's dense window forward.
TEST_P(StepperTest, SparseGateMatricesGiveTheDenseLogits) {
  auto net = make_text_net(GetParam(), kStepVocab, kStepWindow, 7, /*sparsity=*/0.8);
  const std::vector<float> x = random_tokens(1, kStepWindow, kStepVocab, 10);
  const std::vector<float> want = net.logits(x, 1);
  for (const std::string kernels : {"dense", "sparse", "auto"}) {
    Stepper s(net.ex.header, net.ps, "test", kernels);
    EXPECT_EQ(s.sparse_gates(), kernels == "dense" ? 0 : 4) << kernels;
    s.start();
    for (int64_t t = 0; t < kStepWindow; ++t) {
      const int32_t token = int32_t(x[size_t(t)]);
      expect_logits_near(s.feed(net.ps, {&token, 1}), want.data() + t * kStepVocab, kStepVocab,
                         fmt::format("{} kernels, step {}", kernels, t));
    }
  }
  // Dense weights stay on the GEMMs under auto.
  auto dense = make_text_net(GetParam(), kStepVocab, kStepWindow, 7);
  EXPECT_EQ(Stepper(dense.ex.header, dense.ps, "test", "auto").sparse_gates(), 0);
}

INSTANTIATE_TEST_SUITE_P(Cells, StepperTest, ::testing::Values("lstm", "gru"));

TEST(Stepper, RefusesModelsThatAreNotTextModelsAndIdsOutOfRange) {
  auto mlp = testing::make_net(testing::mlp_spec(), {1, 6, 6}, 0.0, 1);
  InferenceModel image = InferenceModel::from_export(mlp.ex, {}, "mlp.sculpt");
  try {
    image.start();
    FAIL() << "an image model stepped";
  } catch (const ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("not a text model"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("mlp.sculpt"), std::string::npos) << e.what();
  }
  // Token ids in, but one linear layer over the whole window: no per-position prediction.
  const nn::ModelSpec flat{{testing::L("embedding", {{"vocab", 5}, {"dim", 3}}),
                            testing::L("flatten"), testing::L("linear", {{"out", 5}})}};
  auto whole = testing::make_net(flat, {4}, 0.0, 2);
  InferenceModel window = InferenceModel::from_export(whole.ex, {}, "flat.sculpt");
  EXPECT_THROW(window.start(), ConfigError);

  auto net = make_text_net("lstm", kStepVocab, kStepWindow, 6);
  InferenceModel m = InferenceModel::from_export(net.ex, {}, "test");
  EXPECT_THROW(m.step(kStepVocab), DataError);
  EXPECT_THROW(m.step(-1), DataError);
  EXPECT_THROW(m.feed({}), ConfigError);
}

}  // namespace
}  // namespace sculpt::infer

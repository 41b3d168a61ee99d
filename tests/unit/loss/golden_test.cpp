// Every loss against PyTorch (float64) golden values from scripts/make_golden.py: the mean loss
// and d(mean loss)/d(logits), built through the loss registry.
#include "golden/golden.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <string>
#include <vector>

#include "loss/registry.h"

namespace sculpt::loss {
namespace {

using nlohmann::json;

class LossGolden : public ::testing::TestWithParam<std::string> {};

TEST_P(LossGolden, ValueAndGradientMatchPyTorch) {
  const json g = golden::load(GetParam());
  ASSERT_EQ(g.value("kind", ""), "loss");
  const std::string name = g.at("loss");
  auto loss = make_loss(name);
  const int64_t n = g.at("n"), k = g.at("k");
  const std::vector<float> logits = golden::floats(g.at("logits"));
  ASSERT_EQ(int64_t(logits.size()), n * k);

  std::vector<int32_t> labels;
  std::vector<float> values;
  Targets t;
  if (loss_info(name).targets == TargetKind::kValues) {
    values = golden::floats(g.at("values"));
    t.values = values.data();
  } else {
    labels = g.at("labels").get<std::vector<int32_t>>();
    t.labels = labels.data();
  }

  std::vector<float> dlogits(logits.size(), -7.0f);
  const double value = loss->forward(logits.data(), t, n, k, dlogits.data());
  const double want = g.at("value");
  EXPECT_NEAR(value, want, 1e-5 + 1e-5 * std::abs(want)) << name << " mean loss";
  EXPECT_TRUE(golden::near("dlogits", dlogits.data(), g.at("dlogits")));

  // The value does not depend on whether the gradient is asked for.
  EXPECT_NEAR(loss->forward(logits.data(), t, n, k, nullptr), value, 1e-12);
}

// Every loss file of tests/golden: a new golden case needs no edit here.
const std::vector<std::string> kLossCases = golden::names_of_kind("loss");

INSTANTIATE_TEST_SUITE_P(Golden, LossGolden, ::testing::ValuesIn(kLossCases),
                         [](const auto& info) { return info.param; });

TEST(LossGoldenFiles, EveryRegisteredLossHasGoldenValues) {
  std::vector<std::string> covered;
  for (const auto& c : kLossCases) covered.push_back(golden::load(c).at("loss"));
  for (const auto& info : loss_registry()) {
    EXPECT_NE(std::find(covered.begin(), covered.end(), info.name), covered.end())
        << "loss '" << info.name << "' has no PyTorch golden case in make_golden.py";
  }
  EXPECT_GE(kLossCases.size(), 3u);
}

}  // namespace
}  // namespace sculpt::loss

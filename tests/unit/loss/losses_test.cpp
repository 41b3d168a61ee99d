// Losses: values against hand-computed cases (the same formulas PyTorch documents), label
// validation, registry lookups.
#include <gtest/gtest.h>

#include <cmath>

#include "core/error.h"
#include "loss/registry.h"

namespace sculpt::loss {
namespace {

TEST(SoftmaxCrossEntropy, HandComputedValueAndGradient) {
  const std::vector<float> z = {1, 2, 3, 0, 0, 0};
  const std::vector<int32_t> y = {2, 0};
  std::vector<float> d(6);
  const double v = make_loss("cross-entropy")->forward(z.data(), {y.data(), nullptr}, 2, 3, d.data());
  const double lse = std::log(std::exp(1.0) + std::exp(2.0) + std::exp(3.0));
  EXPECT_NEAR(v, ((lse - 3) + std::log(3.0)) / 2, 1e-7);
  EXPECT_NEAR(d[2], (std::exp(3 - lse) - 1) / 2, 1e-7);
  EXPECT_NEAR(d[3], (1.0 / 3 - 1) / 2, 1e-7);
  EXPECT_NEAR(d[4], 1.0 / 6, 1e-7);
}

TEST(SoftmaxCrossEntropy, StableForHugeLogitsAndRejectsBadLabels) {
  const std::vector<float> z = {1000, 0, -1000};
  std::vector<int32_t> y = {1};
  EXPECT_NEAR(make_loss("cross-entropy")->forward(z.data(), {y.data(), nullptr}, 1, 3, nullptr),
              1000.0, 1e-3);
  const std::vector<float> z2(6, 0.0f);
  std::vector<int32_t> bad = {0, 3};
  try {
    make_loss("cross-entropy")->forward(z2.data(), {bad.data(), nullptr}, 2, 3, nullptr);
    FAIL() << "no error";
  } catch (const DataError& e) {
    EXPECT_NE(std::string(e.what()).find("row 1"), std::string::npos) << e.what();
  }
}

TEST(BinaryCrossEntropy, MatchesTheLogisticFormula) {
  const std::vector<float> z = {0.5f, -2.0f, 40.0f};
  const std::vector<int32_t> y = {1, 0, 0};
  std::vector<float> d(3);
  const double v = make_loss("bce")->forward(z.data(), {y.data(), nullptr}, 3, 1, d.data());
  auto sig = [](double t) { return 1 / (1 + std::exp(-t)); };
  const double want = (-std::log(sig(0.5)) - std::log(1 - sig(-2.0)) + 40.0) / 3;
  EXPECT_NEAR(v, want, 1e-6);
  EXPECT_NEAR(d[0], (sig(0.5) - 1) / 3, 1e-7);
  EXPECT_NEAR(d[2], sig(40.0) / 3, 1e-7);
  const std::vector<int32_t> bad = {1, 2, 0};
  EXPECT_THROW(make_loss("bce")->forward(z.data(), {bad.data(), nullptr}, 3, 1, nullptr),
               DataError);
  EXPECT_THROW(make_loss("bce")->forward(z.data(), {y.data(), nullptr}, 1, 3, nullptr),
               ShapeError);
}

TEST(MeanSquaredError, MeanOverBatchAndOutputs) {
  const std::vector<float> z = {1, 2, 3, 4}, t = {0, 2, 5, 4};
  std::vector<float> d(4);
  const double v = make_loss("mse")->forward(z.data(), {nullptr, t.data()}, 2, 2, d.data());
  EXPECT_DOUBLE_EQ(v, (1.0 + 0 + 4 + 0) / 4);
  EXPECT_EQ(d, (std::vector<float>{0.5f, 0, -1.0f, 0}));
  EXPECT_THROW(make_loss("mse")->forward(z.data(), {}, 2, 2, nullptr), DataError);
}

TEST(LossRegistry, NamesAndSuggestions) {
  std::vector<std::string> names;
  for (const auto& info : loss_registry()) names.push_back(info.name);
  EXPECT_EQ(names, (std::vector<std::string>{"cross-entropy", "bce", "mse"}));
  try {
    make_loss("cross-entropie");
    FAIL() << "no error";
  } catch (const ConfigError& e) {
    EXPECT_EQ(e.hint(), "did you mean 'cross-entropy'?");
  }
  EXPECT_THROW(make_loss("hinge"), ConfigError);
}

}  // namespace
}  // namespace sculpt::loss

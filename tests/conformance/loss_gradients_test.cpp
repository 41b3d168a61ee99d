// Every loss in the registry: dlogits matches central finite differences of the mean loss, the
// loss does not change when dlogits is not requested, and it is finite for huge logits.
#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "core/rng.h"
#include "loss/registry.h"

namespace sculpt::loss {
namespace {

struct Batch {
  int64_t n, k;
  std::vector<float> logits, values;
  std::vector<int32_t> labels;
  Targets targets() const { return {labels.data(), values.data()}; }
};

Batch make_batch(const LossInfo& info, int64_t n, double scale, Rng& rng) {
  Batch b;
  b.n = n;
  b.k = info.targets == TargetKind::kBinaryLabel ? 1 : 5;
  b.logits.resize(size_t(n * b.k));
  for (auto& v : b.logits) v = static_cast<float>(rng.uniform(-scale, scale));
  b.values.resize(b.logits.size());
  for (auto& v : b.values) v = static_cast<float>(rng.uniform(-1, 1));
  b.labels.resize(size_t(n));
  for (auto& l : b.labels) l = static_cast<int32_t>(rng.below(uint64_t(b.k == 1 ? 2 : b.k)));
  return b;
}

TEST(LossConformance, GradientsMatchFiniteDifferences) {
  Rng rng(1);
  for (const auto& info : loss_registry()) {
    for (int64_t n : {1, 4, 7}) {
      Batch b = make_batch(info, n, 3.0, rng);
      auto loss = make_loss(info.name);
      std::vector<float> d(b.logits.size());
      const double value = loss->forward(b.logits.data(), b.targets(), n, b.k, d.data());
      EXPECT_EQ(value, loss->forward(b.logits.data(), b.targets(), n, b.k, nullptr)) << info.name;
      for (size_t i = 0; i < b.logits.size(); ++i) {
        const float s = b.logits[i];
        const float eps = 1e-2f;
        b.logits[i] = s + eps;
        const double up = loss->forward(b.logits.data(), b.targets(), n, b.k, nullptr);
        b.logits[i] = s - eps;
        const double down = loss->forward(b.logits.data(), b.targets(), n, b.k, nullptr);
        b.logits[i] = s;
        const double numeric = (up - down) / (2.0 * eps);
        EXPECT_NEAR(d[i], numeric, 1e-4 + 1e-3 * std::fabs(numeric))
            << info.name << " n=" << n << " logit " << i;
      }
    }
  }
}

TEST(LossConformance, FiniteForHugeLogits) {
  Rng rng(2);
  for (const auto& info : loss_registry()) {
    Batch b = make_batch(info, 6, 1e4, rng);
    std::vector<float> d(b.logits.size());
    const double v = make_loss(info.name)->forward(b.logits.data(), b.targets(), b.n, b.k, d.data());
    EXPECT_TRUE(std::isfinite(v)) << info.name;
    for (float g : d) EXPECT_TRUE(std::isfinite(g)) << info.name;
  }
}

TEST(LossConformance, LossIsTheMeanOverTheBatch) {
  // Duplicating the batch leaves a mean loss unchanged.
  Rng rng(3);
  for (const auto& info : loss_registry()) {
    Batch b = make_batch(info, 3, 2.0, rng);
    Batch twice = b;
    twice.n = 6;
    twice.logits.insert(twice.logits.end(), b.logits.begin(), b.logits.end());
    twice.values.insert(twice.values.end(), b.values.begin(), b.values.end());
    twice.labels.insert(twice.labels.end(), b.labels.begin(), b.labels.end());
    auto loss = make_loss(info.name);
    EXPECT_NEAR(loss->forward(b.logits.data(), b.targets(), 3, b.k, nullptr),
                loss->forward(twice.logits.data(), twice.targets(), 6, b.k, nullptr), 1e-12)
        << info.name;
  }
}

}  // namespace
}  // namespace sculpt::loss

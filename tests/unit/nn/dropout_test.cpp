// Dropout: the keep fraction, scaling, eval identity, and masks independent of thread count.
#include "nn/layers/dropout.h"

#include <gtest/gtest.h>
#include <omp.h>

#include <cmath>

#include "core/parallel.h"

namespace sculpt::nn {
namespace {

std::vector<float> run(Dropout& d, const std::vector<float>& x, int64_t n, Mode mode, uint64_t key) {
  ParamStore ps;
  std::vector<float> y(x.size());
  d.forward(ps, x.data(), y.data(), n, Pass{.mode = mode, .key = key});
  return y;
}

TEST(Dropout, KeepsTheExpectedFractionAndScales) {
  const int64_t f = 1000, n = 100;  // 1e5 elements: parallel path
  Dropout d("dropout1", 0.3);
  d.bind({f});
  d.reserve(n);
  const std::vector<float> x(size_t(f * n), 2.0f);
  const auto y = run(d, x, n, Mode::kTrain, 17);
  int64_t kept = 0;
  for (float v : y) {
    if (v != 0.0f) {
      ++kept;
      EXPECT_FLOAT_EQ(v, 2.0f / 0.7f);
    }
  }
  const double frac = double(kept) / double(y.size());
  // Binomial standard error sqrt(0.21 / 1e5) ~ 0.0014; allow 5 of them.
  EXPECT_NEAR(frac, 0.7, 0.0075);
}

TEST(Dropout, MaskDoesNotDependOnTheThreadCount) {
  const int64_t f = 4096, n = 16;
  const std::vector<float> x(size_t(f * n), 1.0f);
  const int saved = omp_get_max_threads();
  std::vector<float> ys[2];
  for (int t : {1, 2}) {
    omp_set_num_threads(t);
    Dropout d("dropout1", 0.5);
    d.bind({f});
    d.reserve(n);
    ys[t - 1] = run(d, x, n, Mode::kTrain, 99);
  }
  omp_set_num_threads(saved);
  EXPECT_EQ(ys[0], ys[1]);
}

TEST(Dropout, DifferentKeysAndLayersGiveDifferentMasksEvalIsIdentity) {
  const int64_t f = 256;
  const std::vector<float> x(size_t(f), 1.0f);
  Dropout a("dropout1", 0.5), b("dropout2", 0.5);
  for (Dropout* d : {&a, &b}) {
    d->bind({f});
    d->reserve(1);
  }
  EXPECT_NE(run(a, x, 1, Mode::kTrain, 1), run(a, x, 1, Mode::kTrain, 2));
  EXPECT_NE(run(a, x, 1, Mode::kTrain, 1), run(b, x, 1, Mode::kTrain, 1));
  EXPECT_EQ(run(a, x, 1, Mode::kTrain, 5), run(a, x, 1, Mode::kTrain, 5));
  EXPECT_EQ(run(a, x, 1, Mode::kEval, 5), x);
}

TEST(Dropout, BackwardAppliesTheSameMask) {
  const int64_t f = 64;
  Dropout d("dropout1", 0.5);
  d.bind({f});
  d.reserve(2);
  std::vector<float> x(size_t(2 * f));
  for (size_t i = 0; i < x.size(); ++i) x[i] = float(i + 1);
  const auto y = run(d, x, 2, Mode::kTrain, 3);
  std::vector<float> dx(x.size());
  ParamStore ps;
  d.backward(ps, x.data(), y.data(), x.data(), dx.data(), 2);  // dy = x: dx must equal y
  EXPECT_EQ(dx, y);
}

}  // namespace
}  // namespace sculpt::nn

// Synthetic generators: determinism in the rng, the linear relation and noise level, blob
// balance, centre distance and spread.
#include "data/synthetic.h"

#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "core/error.h"

namespace sculpt::data {
namespace {

bool same_x(const Dataset& a, const Dataset& b) {
  if (a.x.size() != b.x.size()) return false;
  for (int64_t i = 0; i < a.x.size(); ++i) {
    if (a.x[i] != b.x[i]) return false;
  }
  return true;
}

TEST(DataSynthetic, SameSeedSameData) {
  Rng a(11), b(11), c(12);
  EXPECT_TRUE(same_x(make_blobs(50, 3, 2.0, a), make_blobs(50, 3, 2.0, b)));
  EXPECT_FALSE(same_x(make_blobs(50, 3, 2.0, a), make_blobs(50, 3, 2.0, c)));
  Rng d(5), e(5);
  std::vector<float> wd, we;
  float bd = 0, be = 0;
  const Dataset ld = make_linear_regression(40, 4, 0.1, d, &wd, &bd);
  const Dataset le = make_linear_regression(40, 4, 0.1, e, &we, &be);
  EXPECT_TRUE(same_x(ld, le));
  EXPECT_EQ(wd, we);
  EXPECT_EQ(bd, be);
  for (int64_t i = 0; i < 40; ++i) EXPECT_EQ(ld.y[i], le.y[i]);
}

TEST(DataSynthetic, LinearRegressionWithoutNoiseIsExactlyLinear) {
  Rng rng(3);
  std::vector<float> w;
  float b = 0;
  const Dataset ds = make_linear_regression(100, 5, 0.0, rng, &w, &b);
  ASSERT_EQ(w.size(), 5u);
  EXPECT_EQ(ds.task, Task::kRegression);
  EXPECT_EQ(ds.outputs(), 1);
  EXPECT_EQ(ds.sample_shape, Shape{5});
  EXPECT_EQ(ds.y.shape(), (Shape{100, 1}));
  for (float v : w) EXPECT_TRUE(v >= -2.0f && v <= 2.0f);
  EXPECT_TRUE(b >= -1.0f && b <= 1.0f);
  for (int64_t i = 0; i < 100; ++i) {
    double dot = b;
    for (int j = 0; j < 5; ++j) dot += static_cast<double>(ds.x[i * 5 + j]) * w[j];
    EXPECT_NEAR(ds.y[i], dot, 1e-5);
  }
}

TEST(DataSynthetic, LinearRegressionNoiseHasTheRequestedStd) {
  Rng rng(4);
  std::vector<float> w;
  float b = 0;
  const int64_t n = 20000;
  const Dataset ds = make_linear_regression(n, 3, 0.5, rng, &w, &b);
  double sum = 0, sq = 0, xsq = 0;
  for (int64_t i = 0; i < n; ++i) {
    double r = ds.y[i] - b;
    for (int j = 0; j < 3; ++j) r -= static_cast<double>(ds.x[i * 3 + j]) * w[j];
    sum += r;
    sq += r * r;
  }
  for (float v : ds.x.span()) xsq += v * v;
  EXPECT_NEAR(sum / n, 0.0, 0.02);
  EXPECT_NEAR(std::sqrt(sq / n), 0.5, 0.015);
  EXPECT_NEAR(xsq / (3.0 * n), 1.0, 0.03);  // x ~ N(0, 1)
}

TEST(DataSynthetic, BlobsAreBalancedWithCentresSeparationApart) {
  Rng rng(8);
  const int64_t n = 8001, f = 3;
  const Dataset ds = make_blobs(n, f, 4.0, rng);
  EXPECT_EQ(ds.task, Task::kBinary);
  EXPECT_EQ(ds.num_classes, 2);
  EXPECT_EQ(ds.outputs(), 1);
  std::vector<double> mean[2] = {std::vector<double>(f), std::vector<double>(f)};
  int64_t count[2] = {0, 0};
  for (int64_t i = 0; i < n; ++i) {
    const int32_t l = ds.labels[static_cast<size_t>(i)];
    ASSERT_TRUE(l == 0 || l == 1);
    ++count[l];
    for (int64_t j = 0; j < f; ++j) mean[l][j] += ds.x[i * f + j];
  }
  EXPECT_EQ(count[0], 4001);
  EXPECT_EQ(count[1], 4000);
  double dist = 0, mid = 0;
  for (int64_t j = 0; j < f; ++j) {
    mean[0][j] /= count[0];
    mean[1][j] /= count[1];
    dist += (mean[1][j] - mean[0][j]) * (mean[1][j] - mean[0][j]);
    mid += std::abs(mean[0][j] + mean[1][j]) / 2;
  }
  EXPECT_NEAR(std::sqrt(dist), 4.0, 0.1);
  EXPECT_LT(mid, 0.1);  // centred on the origin
  // Within-class spread is unit sigma per feature.
  double var = 0;
  for (int64_t i = 0; i < n; ++i) {
    const int32_t l = ds.labels[static_cast<size_t>(i)];
    for (int64_t j = 0; j < f; ++j) {
      const double d = ds.x[i * f + j] - mean[l][j];
      var += d * d;
    }
  }
  EXPECT_NEAR(std::sqrt(var / (n * f)), 1.0, 0.03);
}

TEST(DataSynthetic, RejectsBadSizes) {
  Rng rng(1);
  EXPECT_THROW(make_blobs(1, 2, 1.0, rng), ConfigError);
  EXPECT_THROW(make_blobs(10, 0, 1.0, rng), ConfigError);
  EXPECT_THROW(make_blobs(10, 2, -1.0, rng), ConfigError);
  EXPECT_THROW(make_linear_regression(0, 2, 0.1, rng), ConfigError);
  EXPECT_THROW(make_linear_regression(10, 2, -0.1, rng), ConfigError);
  try {
    make_linear_regression(10, -2, 0.1, rng);
    FAIL();
  } catch (const ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("data.features"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace sculpt::data

// split_off / take_first / subset sizes, disjointness and determinism; the standardiser against
// hand-computed and published Fashion-MNIST statistics.
#include "data/split.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <numeric>
#include <set>

#include "core/error.h"
#include "data/idx.h"
#include "data_test_util.h"
#include "skip.h"

namespace sculpt::data {
namespace {

// Sample i has the single feature i and label i % 3 (or target -i for regression).
Dataset ids(int64_t n, Task task = Task::kClassification) {
  Dataset ds;
  ds.name = "ids";
  ds.task = task;
  ds.sample_shape = {1};
  ds.x = Tensor(Shape{n, 1});
  for (int64_t i = 0; i < n; ++i) ds.x[i] = static_cast<float>(i);
  if (task == Task::kRegression) {
    ds.num_targets = 1;
    ds.y = Tensor(Shape{n, 1});
    for (int64_t i = 0; i < n; ++i) ds.y[i] = -static_cast<float>(i);
  } else {
    ds.num_classes = 3;
    for (int64_t i = 0; i < n; ++i) ds.labels.push_back(static_cast<int32_t>(i % 3));
  }
  return ds;
}

std::vector<int64_t> members(const Dataset& ds) {
  std::vector<int64_t> v;
  for (int64_t i = 0; i < ds.size(); ++i) {
    const int64_t id = static_cast<int64_t>(ds.x[i]);
    if (ds.task == Task::kRegression)
      EXPECT_EQ(ds.y[i], -ds.x[i]);
    else
      EXPECT_EQ(ds.labels[static_cast<size_t>(i)], id % 3);
    v.push_back(id);
  }
  return v;
}

TEST(DataSplit, SplitOffSizesAreRoundedAndPartsDisjoint) {
  const Dataset ds = ids(10);
  Rng rng(1);
  auto [rest, carved] = split_off(ds, 0.25, rng);  // round(2.5) = 3
  EXPECT_EQ(carved.size(), 3);
  EXPECT_EQ(rest.size(), 7);
  EXPECT_EQ(rest.num_classes, 3);
  EXPECT_EQ(carved.sample_shape, Shape{1});
  std::vector<int64_t> all = members(rest), c = members(carved);
  EXPECT_TRUE(std::is_sorted(all.begin(), all.end()));
  all.insert(all.end(), c.begin(), c.end());
  std::sort(all.begin(), all.end());
  std::vector<int64_t> expect(10);
  std::iota(expect.begin(), expect.end(), int64_t{0});
  EXPECT_EQ(all, expect);  // a partition: nothing lost, nothing duplicated
}

TEST(DataSplit, SplitOffIsDeterministicInTheRng) {
  const Dataset ds = ids(200, Task::kRegression);
  Rng a(7), b(7), c(8);
  const auto pa = split_off(ds, 0.3, a), pb = split_off(ds, 0.3, b), pc = split_off(ds, 0.3, c);
  EXPECT_EQ(pa.second.size(), 60);
  EXPECT_EQ(members(pa.second), members(pb.second));
  EXPECT_NE(members(pa.second), members(pc.second));
  // The carved part is a random subset, not the first or last samples.
  const auto m = members(pa.second);
  EXPECT_LT(m.front(), 50);
  EXPECT_GT(m.back(), 150);
}

TEST(DataSplit, ZeroFractionCarvesNothing) {
  const Dataset ds = ids(5);
  Rng rng(3);
  auto [rest, carved] = split_off(ds, 0.0, rng);
  EXPECT_EQ(carved.size(), 0);
  EXPECT_EQ(members(rest), (std::vector<int64_t>{0, 1, 2, 3, 4}));
}

TEST(DataSplit, FractionOutsideRangeIsAConfigError) {
  const Dataset ds = ids(5);
  Rng rng(3);
  EXPECT_THROW(split_off(ds, 1.0, rng), ConfigError);
  EXPECT_THROW(split_off(ds, -0.1, rng), ConfigError);
}

TEST(DataSplit, TakeFirstKeepsTheHead) {
  const Dataset ds = ids(8, Task::kRegression);
  EXPECT_EQ(members(take_first(ds, 3)), (std::vector<int64_t>{0, 1, 2}));
  EXPECT_EQ(take_first(ds, 100).size(), 8);
  EXPECT_EQ(take_first(ds, 0).size(), 0);
  EXPECT_THROW(take_first(ds, -1), ConfigError);
}

TEST(DataSplit, StandardiserMatchesHandComputedValues) {
  Dataset ds = ids(4);  // features 0, 1, 2, 3: mean 1.5, population variance 1.25
  const Normalizer n = fit_standard(ds);
  EXPECT_FLOAT_EQ(n.mean, 1.5f);
  EXPECT_FLOAT_EQ(n.std, std::sqrt(1.25f));
  apply(n, ds);
  EXPECT_FLOAT_EQ(ds.x[0], -1.5f / std::sqrt(1.25f));
  EXPECT_FLOAT_EQ(ds.x[3], 1.5f / std::sqrt(1.25f));
}

TEST(DataSplit, StandardiserOfConstantDataKeepsUnitStd) {
  Dataset ds = ids(3);
  for (float& v : ds.x.span()) v = 4.0f;
  const Normalizer n = fit_standard(ds);
  EXPECT_FLOAT_EQ(n.mean, 4.0f);
  EXPECT_FLOAT_EQ(n.std, 1.0f);
}

TEST(DataSplit, StandardiserOnFashionMnistTrainMatchesKnownStatistics) {
  SCULPT_REQUIRE(testing::have_fashion_mnist(), "dataset-fashion-mnist not installed (scripts/deps.sh installs it)");
  const std::string dir = testing::kFashionDir;
  const Dataset train = load_idx(dir + "/train-images-idx3-ubyte.gz",
                                 dir + "/train-labels-idx1-ubyte.gz", "fashion-mnist/train");
  ASSERT_EQ(train.size(), 60000);
  const Normalizer n = fit_standard(train);
  EXPECT_NEAR(n.mean, 0.2860, 1e-4);
  EXPECT_NEAR(n.std, 0.3530, 1e-4);
}

}  // namespace
}  // namespace sculpt::data

// load_splits: sizes of every part per source, val carved from train only, normalisation fitted
// on train, true weights of synthetic-linear, unknown sources (at the recipe), real Fashion-MNIST
// with limits.
#include "data/load.h"

#include <gtest/gtest.h>

#include <cmath>
#include <fstream>
#include <numeric>

#include "core/error.h"
#include "data/idx.h"
#include "data/split.h"
#include "data/synthetic.h"
#include "data_test_util.h"
#include "io/recipe.h"
#include "skip.h"

namespace sculpt::data {
namespace {

double mean_of(const Dataset& ds) {
  const auto s = ds.x.span();
  return std::accumulate(s.begin(), s.end(), 0.0) / static_cast<double>(s.size());
}

TEST(DataLoad, SyntheticBlobsCarvesTestThenValAndNormalisesOnTrain) {
  DataConfig cfg;
  cfg.source = DataSource::kSyntheticBlobs;
  cfg.val_fraction = 0.1;
  cfg.test_fraction = 0.2;
  cfg.samples = 1000;
  cfg.features = 4;
  Rng rng(1);
  const Splits s = load_splits(cfg, rng);
  EXPECT_EQ(s.test.size(), 200);
  EXPECT_EQ(s.val.size(), 80);
  EXPECT_EQ(s.train.size(), 720);
  EXPECT_EQ(s.train.task, Task::kBinary);
  EXPECT_EQ(s.val.sample_shape, Shape{4});
  EXPECT_EQ(s.train.name, "synthetic-blobs/train");
  EXPECT_EQ(s.val.name, "synthetic-blobs/val");
  EXPECT_EQ(s.test.name, "synthetic-blobs/test");
  EXPECT_NEAR(mean_of(s.train), 0.0, 1e-5);
  const Normalizer after = fit_standard(s.train);
  EXPECT_NEAR(after.std, 1.0, 1e-5);
  EXPECT_GT(std::abs(mean_of(s.test)), 1e-4);  // test statistics were not used
  EXPECT_NE(s.norm_std, 1.0f);
}

TEST(DataLoad, SameSeedSameSplits) {
  DataConfig cfg;
  cfg.source = DataSource::kSyntheticBlobs;
  cfg.samples = 300;
  cfg.features = 2;
  Rng a(9), b(9);
  const Splits sa = load_splits(cfg, a), sb = load_splits(cfg, b);
  ASSERT_EQ(sa.val.x.size(), sb.val.x.size());
  for (int64_t i = 0; i < sa.val.x.size(); ++i) ASSERT_EQ(sa.val.x[i], sb.val.x[i]);
  EXPECT_EQ(sa.test.labels, sb.test.labels);
}

TEST(DataLoad, SyntheticLinearTrueWeightsHoldInTheNormalisedSpace) {
  DataConfig cfg;
  cfg.source = DataSource::kSyntheticLinear;
  cfg.samples = 500;
  cfg.features = 3;
  cfg.noise = 0.0;
  Rng rng(2);
  const Splits s = load_splits(cfg, rng);
  ASSERT_EQ(s.true_weights.size(), 3u);
  EXPECT_NE(s.norm_std, 1.0f);
  for (const Dataset* d : {&s.train, &s.val, &s.test}) {
    ASSERT_GT(d->size(), 0);
    for (int64_t i = 0; i < d->size(); ++i) {
      double y = s.true_bias;
      for (int j = 0; j < 3; ++j) y += static_cast<double>(d->x[i * 3 + j]) * s.true_weights[j];
      ASSERT_NEAR(d->y[i], y, 1e-4) << d->name << " sample " << i;
    }
  }
}

TEST(DataLoad, NormalizeNoneGivesTheGeneratedSamplesUnchanged) {
  DataConfig cfg;
  cfg.source = DataSource::kSyntheticBlobs;
  cfg.normalize = Normalize::kNone;
  cfg.samples = 100;
  Rng a(3), b(3);
  const Splits s = load_splits(cfg, a);
  EXPECT_EQ(s.norm_mean, 0.0f);
  EXPECT_EQ(s.norm_std, 1.0f);
  // Independent replay of the documented pipeline: generate, carve test, carve val.
  const Dataset all = make_blobs(100, cfg.features, cfg.separation, b);
  auto [rest, test] = split_off(all, 0.2, b);
  auto [train, val] = split_off(rest, 0.1, b);
  ASSERT_EQ(s.test.size(), test.size());
  ASSERT_EQ(s.val.size(), val.size());
  for (int64_t i = 0; i < test.x.size(); ++i) ASSERT_EQ(s.test.x[i], test.x[i]);
  for (int64_t i = 0; i < val.x.size(); ++i) ASSERT_EQ(s.val.x[i], val.x[i]);
  EXPECT_EQ(s.train.labels, train.labels);
}

// The choices are checked once, when the recipe is read: the loader gets enums.
TEST(DataLoad, UnknownSourceOrNormalizeSuggestsTheClosestName) {
  for (const auto& [toml, want] : std::vector<std::pair<std::string, std::string>>{
           {"[data]\nsource = \"fashion-minst\"\n", "did you mean 'fashion-mnist'?"},
           {"[data]\nnormalize = \"standart\"\n", "did you mean 'standard'?"}}) {
    try {
      (void)parse_recipe(toml, "r.toml");
      FAIL() << "expected ConfigError for " << toml;
    } catch (const ConfigError& e) {
      EXPECT_NE(std::string(e.what()).find(want), std::string::npos) << e.what();
    }
  }
}

TEST(DataLoad, TextSplitsByPositionKeepsIdsAndLimitsWholeWindows) {
  testing::TempDir dir;
  std::string text;
  for (int i = 0; i < 100; ++i) text += "the cat sat. ";  // 1300 characters
  std::ofstream(dir.file("t.txt")) << text;
  DataConfig cfg;
  cfg.source = DataSource::kText;
  cfg.path = dir.file("t.txt");
  cfg.steps = 10;
  cfg.val_fraction = 0.1;
  cfg.test_fraction = 0.2;
  cfg.limit_train = 50;
  Rng rng(1);
  const Splits s = load_splits(cfg, rng);
  EXPECT_EQ(s.vocabulary.size(), 8);  // ' ', '.', a, c, e, h, s, t
  EXPECT_EQ(s.train.size(), 50);
  EXPECT_EQ(s.val.size(), (130 - 11) / 10 + 1);  // tokens [910, 1040), windows 10 apart
  EXPECT_EQ(s.test.size(), (260 - 11) / 10 + 1);
  EXPECT_EQ(s.train.positions, 10);
  ASSERT_EQ(s.train.labels.size(), 500u);
  // Not standardised: whole ids; each window's labels are its inputs shifted by one.
  for (int64_t w = 0; w < s.train.size(); ++w)
    for (int64_t j = 0; j + 1 < 10; ++j) {
      EXPECT_EQ(s.train.x[w * 10 + j + 1], float(s.train.labels[size_t(w * 10 + j)]));
      EXPECT_EQ(s.train.x[w * 10 + j], std::floor(s.train.x[w * 10 + j]));
    }
  EXPECT_EQ(s.vocabulary.decode({int32_t(s.val.x[0])}), std::string(1, text[910]));
}

TEST(DataLoad, RejectsBadFractions) {
  Rng rng(1);
  DataConfig a;
  a.source = DataSource::kSyntheticBlobs;
  a.val_fraction = 1.0;
  EXPECT_THROW(load_splits(a, rng), ConfigError);
  DataConfig b;
  b.source = DataSource::kSyntheticBlobs;
  b.test_fraction = -0.5;
  EXPECT_THROW(load_splits(b, rng), ConfigError);
}

TEST(DataLoad, CsvWithSeparateTestFileKeepsTheTrainTask) {
  testing::TempDir dir;
  // Train has classes 0..2; test only 0/1, which alone would be detected as binary.
  testing::write_text(dir.file("train.csv"), "a,b,y\n1,2,0\n3,4,1\n5,6,2\n7,8,1\n");
  testing::write_text(dir.file("test.csv"), "a,b,y\n1,1,0\n2,2,1\n");
  DataConfig cfg;
  cfg.source = DataSource::kCsv;
  cfg.path = dir.file("train.csv");
  cfg.test_path = dir.file("test.csv");
  cfg.target = "y";
  cfg.val_fraction = 0.0;
  cfg.normalize = Normalize::kNone;
  Rng rng(1);
  const Splits s = load_splits(cfg, rng);
  EXPECT_EQ(s.train.size(), 4);
  EXPECT_EQ(s.val.size(), 0);
  EXPECT_EQ(s.test.size(), 2);
  EXPECT_EQ(s.test.task, Task::kClassification);
  EXPECT_EQ(s.test.num_classes, 3);
  EXPECT_EQ(s.test.labels, (std::vector<int32_t>{0, 1}));
  EXPECT_EQ(s.test.x[2], 2.0f);
}

TEST(DataLoad, CsvTestFileWithOtherFeatureCountIsADataError) {
  testing::TempDir dir;
  testing::write_text(dir.file("train.csv"), "1,2,0\n3,4,1\n");
  testing::write_text(dir.file("test.csv"), "1,0\n2,1\n");
  DataConfig cfg;
  cfg.source = DataSource::kCsv;
  cfg.path = dir.file("train.csv");
  cfg.test_path = dir.file("test.csv");
  cfg.val_fraction = 0.0;
  Rng rng(1);
  try {
    load_splits(cfg, rng);
    FAIL();
  } catch (const DataError& e) {
    EXPECT_NE(std::string(e.what()).find("test.csv has 1 features"), std::string::npos) << e.what();
  }
}

TEST(DataLoad, CsvWithoutTestFileCarvesTestFirst) {
  testing::TempDir dir;
  std::string text = "x,y\n";
  for (int i = 0; i < 50; ++i) text += std::to_string(i) + "," + std::to_string(i * 0.5) + "\n";
  testing::write_text(dir.file("d.csv"), text);
  DataConfig cfg;
  cfg.source = DataSource::kCsv;
  cfg.path = dir.file("d.csv");
  cfg.val_fraction = 0.2;
  cfg.test_fraction = 0.2;
  Rng rng(4);
  const Splits s = load_splits(cfg, rng);
  EXPECT_EQ(s.test.size(), 10);
  EXPECT_EQ(s.val.size(), 8);
  EXPECT_EQ(s.train.size(), 32);
  EXPECT_EQ(s.train.task, Task::kRegression);
}

TEST(DataLoad, IdxDirectoryFallsBackToUncompressedNames) {
  testing::TempDir dir;
  auto images = [](uint32_t n) {
    return testing::idx_bytes({n, 2, 2}, testing::pixel_pattern(n * 4));
  };
  auto labels = [](uint32_t n) {
    std::vector<uint8_t> l(n);
    for (uint32_t i = 0; i < n; ++i) l[i] = static_cast<uint8_t>(i % 10);
    return testing::idx_bytes({n}, l);
  };
  testing::write_gz(dir.file("train-images-idx3-ubyte.gz"), images(20));
  testing::write_plain(dir.file("train-labels-idx1-ubyte"), labels(20));  // no .gz
  testing::write_plain(dir.file("t10k-images-idx3-ubyte"), images(6));
  testing::write_gz(dir.file("t10k-labels-idx1-ubyte.gz"), labels(6));
  DataConfig cfg;
  cfg.source = DataSource::kIdx;
  cfg.path = dir.path().string();
  cfg.val_fraction = 0.25;
  cfg.limit_train = 12;
  cfg.limit_test = 5;
  Rng rng(2);
  const Splits s = load_splits(cfg, rng);
  EXPECT_EQ(s.train.size(), 9);
  EXPECT_EQ(s.val.size(), 3);
  EXPECT_EQ(s.test.size(), 5);
  EXPECT_EQ(s.test.labels, (std::vector<int32_t>{0, 1, 2, 3, 4}));
  EXPECT_EQ(s.train.sample_shape, (Shape{1, 2, 2}));
}

TEST(DataLoad, MissingIdxDirectoryNamesTheFileAndThePackage) {
  DataConfig cfg;
  cfg.source = DataSource::kFashionMnist;
  cfg.path = "/nonexistent/sculpt-data";
  Rng rng(1);
  try {
    load_splits(cfg, rng);
    FAIL();
  } catch (const IoError& e) {
    const std::string what = e.what();
    EXPECT_NE(what.find("/nonexistent/sculpt-data/train-images-idx3-ubyte.gz"), std::string::npos)
        << what;
    EXPECT_NE(what.find("dataset-fashion-mnist"), std::string::npos) << what;
  }
}

TEST(DataLoad, RealFashionMnistWithLimits) {
  SCULPT_REQUIRE(testing::have_fashion_mnist(),
                 "dataset-fashion-mnist not installed (scripts/deps.sh installs it)");
  DataConfig cfg;  // the defaults: fashion-mnist from /usr/share/datasets
  cfg.limit_train = 1000;
  cfg.limit_test = 500;
  Rng rng(42);
  const Splits s = load_splits(cfg, rng);
  EXPECT_EQ(s.train.size(), 900);
  EXPECT_EQ(s.val.size(), 100);
  EXPECT_EQ(s.test.size(), 500);
  EXPECT_EQ(s.train.sample_shape, (Shape{1, 28, 28}));
  EXPECT_EQ(s.train.num_classes, 10);
  EXPECT_EQ(s.train.outputs(), 10);

  // Reference: the raw files read directly (only their heads, to stay fast under ASan).
  const std::string d = testing::kFashionDir;
  const Dataset raw_train = load_idx(d + "/train-images-idx3-ubyte.gz",
                                     d + "/train-labels-idx1-ubyte.gz", "raw", 10, 1000);
  const Dataset raw_test =
      load_idx(d + "/t10k-images-idx3-ubyte.gz", d + "/t10k-labels-idx1-ubyte.gz", "raw", 10, 500);
  // Test = the first 500 test images in order, with the train statistics applied.
  for (int64_t i = 0; i < s.test.x.size(); i += 97) {
    ASSERT_NEAR(s.test.x[i] * s.norm_std + s.norm_mean, raw_test.x[i], 1e-5);
  }
  EXPECT_EQ(s.test.labels,
            std::vector<int32_t>(raw_test.labels.begin(), raw_test.labels.begin() + 500));
  // Train + val = the first 1000 train images; statistics come from the 900 train ones.
  const Normalizer on_train = fit_standard(s.train);
  EXPECT_NEAR(on_train.mean, 0.0, 1e-5);
  EXPECT_NEAR(on_train.std, 1.0, 1e-4);
  double sum_parts = 0, sum_raw = 0;
  for (const Dataset* p : {&s.train, &s.val}) {
    for (float v : p->x.span()) sum_parts += v * s.norm_std + s.norm_mean;
  }
  for (int64_t i = 0; i < 1000 * 784; ++i) sum_raw += raw_train.x[i];
  EXPECT_NEAR(sum_parts, sum_raw, 1e-3 * sum_raw / 1000);
  int64_t label_hist_parts[10] = {}, label_hist_raw[10] = {};
  for (const Dataset* p : {&s.train, &s.val}) {
    for (int32_t l : p->labels) ++label_hist_parts[l];
  }
  for (int i = 0; i < 1000; ++i) ++label_hist_raw[raw_train.labels[static_cast<size_t>(i)]];
  for (int c = 0; c < 10; ++c) EXPECT_EQ(label_hist_parts[c], label_hist_raw[c]);
}

}  // namespace
}  // namespace sculpt::data

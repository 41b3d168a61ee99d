// Batcher: coverage of every sample once per epoch, shuffling by the rng, partial last batch,
// regression targets, buffer reuse and the batch-size check; the stream order of truncated BPTT
// (slot s of batch k + 1 continues slot s of batch k, on numbered samples and on real text).
#include "data/batcher.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <fstream>
#include <numeric>
#include <vector>

#include "core/error.h"
#include "data/text.h"
#include "data_test_util.h"

namespace sculpt::data {
namespace {

// Sample i has features (i, -i) and label i % 7 (or target 10 i for regression).
Dataset numbered(int64_t n, Task task = Task::kClassification) {
  Dataset ds;
  ds.name = "numbered";
  ds.task = task;
  ds.sample_shape = {2};
  ds.x = Tensor(Shape{n, 2});
  for (int64_t i = 0; i < n; ++i) {
    ds.x[2 * i] = static_cast<float>(i);
    ds.x[2 * i + 1] = -static_cast<float>(i);
  }
  if (task == Task::kRegression) {
    ds.num_targets = 1;
    ds.y = Tensor(Shape{n, 1});
    for (int64_t i = 0; i < n; ++i) ds.y[i] = 10.0f * static_cast<float>(i);
  } else {
    ds.num_classes = 7;
    for (int64_t i = 0; i < n; ++i) ds.labels.push_back(static_cast<int32_t>(i % 7));
  }
  return ds;
}

// One epoch's sample ids in visiting order; checks each sample's payload is consistent.
std::vector<int64_t> epoch_order(Batcher& b, const Dataset& ds,
                                 std::vector<int64_t>* sizes = nullptr) {
  std::vector<int64_t> ids;
  b.start_epoch();
  Batch batch;
  while (b.next(batch)) {
    if (sizes) sizes->push_back(batch.n);
    for (int64_t i = 0; i < batch.n; ++i) {
      const int64_t id = static_cast<int64_t>(batch.x[2 * i]);
      EXPECT_EQ(batch.x[2 * i + 1], -static_cast<float>(id));
      if (ds.task == Task::kRegression) {
        EXPECT_EQ(batch.labels, nullptr);
        EXPECT_EQ(batch.y[i], 10.0f * static_cast<float>(id));
      } else {
        EXPECT_EQ(batch.y, nullptr);
        EXPECT_EQ(batch.labels[i], id % 7);
      }
      ids.push_back(id);
    }
  }
  return ids;
}

std::vector<int64_t> iota_vec(int64_t n) {
  std::vector<int64_t> v(static_cast<size_t>(n));
  std::iota(v.begin(), v.end(), int64_t{0});
  return v;
}

TEST(DataBatcher, EverySampleExactlyOncePerEpochWithPartialLastBatch) {
  const Dataset ds = numbered(50);
  Rng rng(1);
  Batcher b(ds, 7, &rng);
  EXPECT_EQ(b.batches_per_epoch(), 8);
  for (int epoch = 0; epoch < 3; ++epoch) {
    std::vector<int64_t> sizes;
    std::vector<int64_t> ids = epoch_order(b, ds, &sizes);
    EXPECT_EQ(sizes, (std::vector<int64_t>{7, 7, 7, 7, 7, 7, 7, 1}));
    std::sort(ids.begin(), ids.end());
    EXPECT_EQ(ids, iota_vec(50));
  }
}

TEST(DataBatcher, ShufflesDifferentlyEachEpochAndPerSeed) {
  const Dataset ds = numbered(64);
  Rng r1(5), r2(5), r3(6);
  Batcher a(ds, 10, &r1), same(ds, 10, &r2), other(ds, 10, &r3);
  const auto e1 = epoch_order(a, ds), e2 = epoch_order(a, ds);
  EXPECT_NE(e1, iota_vec(64));
  EXPECT_NE(e1, e2);
  EXPECT_EQ(epoch_order(same, ds), e1);
  EXPECT_EQ(epoch_order(same, ds), e2);
  EXPECT_NE(epoch_order(other, ds), e1);
}

TEST(DataBatcher, NoRngKeepsDatasetOrder) {
  const Dataset ds = numbered(23);
  Batcher b(ds, 5, nullptr);
  EXPECT_EQ(epoch_order(b, ds), iota_vec(23));
  EXPECT_EQ(epoch_order(b, ds), iota_vec(23));
}

TEST(DataBatcher, NextWithoutStartEpochStartsOne) {
  const Dataset ds = numbered(9);
  Rng r1(3), r2(3);
  Batcher a(ds, 4, &r1), b(ds, 4, &r2);
  Batch x, y;
  ASSERT_TRUE(a.next(x));
  b.start_epoch();
  ASSERT_TRUE(b.next(y));
  EXPECT_EQ(x.n, 4);
  for (int i = 0; i < 8; ++i) EXPECT_EQ(x.x[i], y.x[i]);
}

TEST(DataBatcher, RegressionTargetsFollowTheirSamples) {
  const Dataset ds = numbered(31, Task::kRegression);
  Rng rng(9);
  Batcher b(ds, 8, &rng);
  auto ids = epoch_order(b, ds);
  std::sort(ids.begin(), ids.end());
  EXPECT_EQ(ids, iota_vec(31));
}

TEST(DataBatcher, SequenceLabelsFollowTheirSamples) {
  Dataset ds = numbered(9);
  ds.positions = 3;  // sample i has labels 3i, 3i+1, 3i+2
  ds.labels.clear();
  for (int32_t i = 0; i < 27; ++i) ds.labels.push_back(i);
  Rng rng(4);
  Batcher b(ds, 4, &rng);
  Batch batch;
  int64_t seen = 0;
  while (b.next(batch)) {
    EXPECT_EQ(batch.positions, 3);
    EXPECT_EQ(batch.rows(), batch.n * 3);
    for (int64_t i = 0; i < batch.n; ++i) {
      const auto s = static_cast<int32_t>(batch.x[2 * i]);
      for (int32_t j = 0; j < 3; ++j) EXPECT_EQ(batch.labels[3 * i + j], 3 * s + j);
    }
    seen += batch.n;
  }
  EXPECT_EQ(seen, 9);
}

TEST(DataBatcher, ReusesItsBuffersAcrossBatches) {
  const Dataset ds = numbered(40);
  Rng rng(2);
  Batcher b(ds, 8, &rng);
  Batch first, batch;
  ASSERT_TRUE(b.next(first));
  const float* x = first.x;
  const int32_t* l = first.labels;
  while (b.next(batch)) {
    EXPECT_EQ(batch.x, x);
    EXPECT_EQ(batch.labels, l);
  }
  EXPECT_EQ(reinterpret_cast<uintptr_t>(x) % 64, 0u);
}

TEST(DataBatcher, BatchLargerThanDatasetGivesOneBatch) {
  const Dataset ds = numbered(6);
  Batcher b(ds, 1000, nullptr);
  EXPECT_EQ(b.batches_per_epoch(), 1);
  std::vector<int64_t> sizes;
  epoch_order(b, ds, &sizes);
  EXPECT_EQ(sizes, std::vector<int64_t>{6});
}

TEST(DataBatcher, SkipToResumesMidEpoch) {
  const Dataset ds = numbered(20);
  Rng r1(4), r2(4);
  Batcher full(ds, 3, &r1), resumed(ds, 3, &r2);
  const auto order = epoch_order(full, ds);
  resumed.start_epoch();
  resumed.skip_to(9);
  EXPECT_EQ(resumed.cursor(), 9);
  Batch batch;
  std::vector<int64_t> rest;
  while (resumed.next(batch)) {
    for (int64_t i = 0; i < batch.n; ++i) rest.push_back(static_cast<int64_t>(batch.x[2 * i]));
  }
  EXPECT_EQ(rest, std::vector<int64_t>(order.begin() + 9, order.end()));
  EXPECT_THROW(resumed.skip_to(21), ConfigError);
}

TEST(DataBatcher, RejectsNonPositiveBatchSize) {
  const Dataset ds = numbered(4);
  for (int64_t bs : {0, -3}) {
    try {
      Batcher b(ds, bs, nullptr);
      FAIL() << "expected ConfigError for batch size " << bs;
    } catch (const ConfigError& e) {
      EXPECT_NE(std::string(e.what()).find("train.batch_size must be > 0"), std::string::npos)
          << e.what();
    }
  }
}

TEST(DataBatcher, EmptyDatasetHasNoBatches) {
  Dataset ds;
  ds.sample_shape = {3};
  Batcher b(ds, 4, nullptr);
  Batch batch;
  EXPECT_EQ(b.batches_per_epoch(), 0);
  EXPECT_FALSE(b.next(batch));
}

// 23 samples in 4 streams of 5: batch k holds samples k, 5 + k, 10 + k, 15 + k; the last 3
// samples are left out; every epoch the same order, and the rng is never drawn from.
TEST(DataBatcher, StreamOrderContinuesEachSlotFromBatchToBatch) {
  const Dataset ds = numbered(23);
  Rng rng(8);
  const auto before = rng.state();
  Batcher b(ds, 4, &rng);
  b.use_streams();
  EXPECT_TRUE(b.streams());
  EXPECT_EQ(b.samples_per_epoch(), 20);
  EXPECT_EQ(b.batches_per_epoch(), 5);
  for (int epoch = 0; epoch < 2; ++epoch) {
    std::vector<int64_t> sizes;
    const std::vector<int64_t> ids = epoch_order(b, ds, &sizes);
    EXPECT_EQ(sizes, std::vector<int64_t>(5, 4));
    ASSERT_EQ(ids.size(), 20u);
    for (int64_t k = 0; k < 5; ++k)
      for (int64_t s = 0; s < 4; ++s) {
        EXPECT_EQ(ids[size_t(k * 4 + s)], s * 5 + k) << "batch " << k << " slot " << s;
        if (k > 0) EXPECT_EQ(ids[size_t(k * 4 + s)], ids[size_t((k - 1) * 4 + s)] + 1);
      }
  }
  EXPECT_EQ(rng.state(), before);
  // A resume lands on the same batch.
  b.start_epoch();
  b.skip_to(8);
  Batch batch;
  ASSERT_TRUE(b.next(batch));
  EXPECT_EQ(batch.x[0], 2.0f);
  EXPECT_EQ(batch.x[2 * 3], 17.0f);
  EXPECT_THROW(b.skip_to(21), ConfigError);  // beyond the 20 an epoch visits
}

// For evaluation every sample counts: 23 samples in 4 streams of 6, 6, 6 and 5 (starting at 0,
// 6, 12, 18); the last batch holds slots 0..2. Fewer samples than streams: one stream each.
TEST(DataBatcher, StreamOrderForEvaluationKeepsEverySample) {
  const Dataset ds = numbered(23);
  Batcher b(ds, 4, nullptr);
  b.use_streams(/*keep_all=*/true);
  EXPECT_EQ(b.samples_per_epoch(), 23);
  std::vector<int64_t> sizes;
  const std::vector<int64_t> ids = epoch_order(b, ds, &sizes);
  EXPECT_EQ(sizes, (std::vector<int64_t>{4, 4, 4, 4, 4, 3}));
  for (int64_t k = 0; k < 6; ++k)
    for (int64_t s = 0; s < sizes[size_t(k)]; ++s)
      EXPECT_EQ(ids[size_t(k * 4 + s)], s * 6 + k) << "batch " << k << " slot " << s;
  const Dataset three = numbered(3);
  Batcher few(three, 8, nullptr);
  few.use_streams(true);
  sizes.clear();
  EXPECT_EQ(epoch_order(few, three, &sizes), (std::vector<int64_t>{0, 1, 2}));
  EXPECT_EQ(sizes, std::vector<int64_t>{3});
}

TEST(DataBatcher, StreamOrderNeedsAWindowPerStream) {
  const Dataset ds = numbered(5);
  Batcher b(ds, 8, nullptr);
  try {
    b.use_streams();
    FAIL() << "5 samples cut into 8 streams";
  } catch (const ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("train.batch_size = 8 streams"), std::string::npos)
        << e.what();
  }
}

// On text windows of `steps` tokens end to end, a stream is the text read on: the first input
// of slot s in batch k + 1 is the last label of slot s in batch k. Shuffled, it is not.
TEST(DataBatcher, StreamsOfTextWindowsReadTheTextOn) {
  testing::TempDir dir;
  std::string text;
  for (int i = 0; i < 400; ++i) text += static_cast<char>('a' + (i * 7 + i / 26) % 26);
  std::ofstream(dir.file("t.txt"), std::ios::binary) << text;
  const TextSplits t = load_text(dir.file("t.txt"), {.steps = 6, .val_fraction = 0.1});
  const int64_t steps = 6, batch = 5;
  auto continued = [&](Batcher& b) {
    int64_t kept = 0, pairs = 0;
    std::vector<float> last_label(batch, -1.0f);
    Batch bt;
    b.start_epoch();
    for (bool first = true; b.next(bt); first = false)
      for (int64_t s = 0; s < bt.n; ++s) {
        if (!first) {
          ++pairs;
          kept += bt.x[s * steps] == last_label[size_t(s)];
        }
        last_label[size_t(s)] = static_cast<float>(bt.labels[s * steps + steps - 1]);
      }
    return std::pair(kept, pairs);
  };
  Batcher streams(t.train, batch, nullptr);
  streams.use_streams();
  const auto [kept, pairs] = continued(streams);
  EXPECT_EQ(pairs, (t.train.size() / batch - 1) * batch);
  EXPECT_EQ(kept, pairs);
  Rng rng(1);
  Batcher shuffled(t.train, batch, &rng);
  EXPECT_LT(continued(shuffled).first, pairs / 2);
}

}  // namespace
}  // namespace sculpt::data

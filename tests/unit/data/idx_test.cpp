// IDX reader: plain and gzip files (detected by content, not name), limits, and every error path
// with the file name and the numbers in the message.
#include "data/idx.h"

#include <gtest/gtest.h>

#include <string>
#include <string_view>

#include "core/error.h"
#include "data_test_util.h"
#include "skip.h"

namespace sculpt::data {
namespace {

using testing::idx_bytes;
using testing::pixel_pattern;
using testing::TempDir;

std::vector<uint8_t> label_bytes(uint32_t n, uint8_t mod = 10) {
  std::vector<uint8_t> l(n);
  for (uint32_t i = 0; i < n; ++i) l[i] = static_cast<uint8_t>((i * 3) % mod);
  return idx_bytes({n}, l);
}

// Runs f, expects an exception of type E whose what() contains every string in `parts`.
template <class E, class F>
void expect_error(F f, std::initializer_list<std::string> parts) {
  try {
    f();
    ADD_FAILURE() << "no exception thrown";
  } catch (const E& e) {
    const std::string what = e.what();
    for (const auto& p : parts) EXPECT_NE(what.find(p), std::string::npos) << what;
  } catch (const std::exception& e) {
    ADD_FAILURE() << "wrong exception type: " << e.what();
  }
}

class DataIdx : public ::testing::Test {
 protected:
  // 5 images of 3x4 and 5 labels, gzip and plain, under misleading names for half of them.
  void SetUp() override {
    testing::write_gz(dir.file("img.gz"), idx_bytes({5, 3, 4}, pixel_pattern(60)));
    testing::write_plain(dir.file("img.plain"), idx_bytes({5, 3, 4}, pixel_pattern(60)));
    testing::write_gz(dir.file("gzip-without-extension"), label_bytes(5));
    testing::write_plain(dir.file("plain-named.gz"), label_bytes(5));
  }
  TempDir dir;
};

TEST_F(DataIdx, ReadsGzipAndPlainByContentNotByName) {
  for (const char* images : {"img.gz", "img.plain"}) {
    for (const char* labels : {"gzip-without-extension", "plain-named.gz"}) {
      const Dataset ds = load_idx(dir.file(images), dir.file(labels), "tiny");
      EXPECT_EQ(ds.name, "tiny");
      EXPECT_EQ(ds.size(), 5);
      EXPECT_EQ(ds.sample_shape, (Shape{1, 3, 4}));
      EXPECT_EQ(ds.x.shape(), (Shape{5, 1, 3, 4}));
      EXPECT_EQ(ds.num_classes, 10);
      EXPECT_EQ(ds.task, Task::kClassification);
      const auto px = pixel_pattern(60);
      for (int k = 0; k < 60; ++k) ASSERT_EQ(ds.x[k], static_cast<float>(px[k]) / 255.0f);
      EXPECT_EQ(ds.labels, (std::vector<int32_t>{0, 3, 6, 9, 2}));
    }
  }
}

TEST_F(DataIdx, MaxItemsReadsOnlyTheHead) {
  const Dataset ds = load_idx(dir.file("img.gz"), dir.file("plain-named.gz"), "t", 10, 2);
  EXPECT_EQ(ds.size(), 2);
  EXPECT_EQ(ds.labels, (std::vector<int32_t>{0, 3}));
  EXPECT_EQ(ds.x[23], static_cast<float>(pixel_pattern(60)[23]) / 255.0f);
}

TEST_F(DataIdx, MissingFileIsAnIoErrorWithTheDatasetHint) {
  expect_error<IoError>([&] { load_idx(dir.file("nope.gz"), dir.file("plain-named.gz"), "t"); },
                        {"cannot open", dir.file("nope.gz"), "dataset-fashion-mnist", "data.path"});
  expect_error<IoError>([&] { read_idx(dir.path().string(), kIdxLabelsMagic); },
                        {"cannot open", dir.path().string()});
}

TEST_F(DataIdx, WrongMagicNamesFileFoundAndExpected) {
  // Images and labels swapped.
  expect_error<DataError>(
      [&] { load_idx(dir.file("plain-named.gz"), dir.file("img.gz"), "t"); },
      {dir.file("plain-named.gz"), "0x00000801", "expected 0x00000803", "swapped"});
  testing::write_text(dir.file("text"), "hello world, not idx");
  expect_error<DataError>([&] { read_idx(dir.file("text"), kIdxLabelsMagic); },
                          {dir.file("text"), "0x68656c6c", "expected 0x00000801"});
}

TEST_F(DataIdx, TruncatedPlainFileSaysExpectedAndAvailable) {
  const auto full = idx_bytes({5, 3, 4}, pixel_pattern(60));
  const decltype(full) bytes(full.begin(), full.end() - 7);  // (resize trips a GCC 12 false warning)
  testing::write_plain(dir.file("short"), bytes);
  expect_error<DataError>([&] { read_idx(dir.file("short"), kIdxImagesMagic); },
                          {dir.file("short"), "5 items (60 bytes)", "only 53 bytes"});
  testing::write_plain(dir.file("header-only"), {0, 0, 8, 3, 0, 0});
  expect_error<DataError>([&] { read_idx(dir.file("header-only"), kIdxImagesMagic); },
                          {dir.file("header-only"), "expected 12 bytes, read 2"});
  testing::write_plain(dir.file("empty"), {});
  expect_error<DataError>([&] { read_idx(dir.file("empty"), kIdxImagesMagic); },
                          {dir.file("empty"), "expected 4 bytes, read 0"});
}

TEST_F(DataIdx, TruncatedGzipStreamReportsZlib) {
  // Incompressible-ish payload so that cutting the stream loses data, not just the trailer.
  std::vector<uint8_t> px(4000);
  uint32_t s = 1;
  for (auto& b : px) b = static_cast<uint8_t>((s = s * 1103515245u + 12345u) >> 24);
  testing::write_gz(dir.file("full.gz"), idx_bytes({10, 20, 20}, px));
  auto gz = testing::read_all(dir.file("full.gz"));
  gz.resize(gz.size() / 2);
  testing::write_plain(dir.file("cut.gz"), gz);
  expect_error<DataError>([&] { read_idx(dir.file("cut.gz"), kIdxImagesMagic); },
                          {dir.file("cut.gz"), "expected 10 items (4000 bytes)", "zlib"});
}

TEST_F(DataIdx, CorruptGzipStreamIsADataError) {
  auto gz = testing::read_all(dir.file("img.gz"));
  for (size_t i = 12; i < gz.size() - 8; ++i) gz[i] ^= 0x5a;
  testing::write_plain(dir.file("bad.gz"), gz);
  expect_error<DataError>([&] { read_idx(dir.file("bad.gz"), kIdxImagesMagic); },
                          {dir.file("bad.gz")});
}

TEST_F(DataIdx, ImplausibleHeadersAreRejectedBeforeAllocation) {
  testing::write_plain(dir.file("many"), idx_bytes({0x90000000u, 1, 1}, {}));
  expect_error<DataError>([&] { read_idx(dir.file("many"), kIdxImagesMagic); },
                          {dir.file("many"), "2415919104 items", "2^31"});
  testing::write_plain(dir.file("overflow"), idx_bytes({16, 0xffffffffu, 0xffffffffu}, {}));
  expect_error<DataError>([&] { read_idx(dir.file("overflow"), kIdxImagesMagic); },
                          {dir.file("overflow"), "more than the limit of 2^31 entries"});
  // No overflow, but over the tensor limit (core/limits.h).
  testing::write_plain(dir.file("big"), idx_bytes({65536, 256, 256}, {}));
  expect_error<DataError>([&] { read_idx(dir.file("big"), kIdxImagesMagic); },
                          {dir.file("big"), "[65536, 256, 256], more than the limit"});
  // A gzip file of a few dozen bytes cannot hold 60000 x 28 x 28 bytes.
  testing::write_gz(dir.file("liar.gz"), idx_bytes({60000, 28, 28}, pixel_pattern(10)));
  expect_error<DataError>([&] { read_idx(dir.file("liar.gz"), kIdxImagesMagic); },
                          {dir.file("liar.gz"), "47040000 bytes", "gzip file"});
  // A plausible claim that still outruns the stream: fails on the read.
  testing::write_gz(dir.file("short.gz"), idx_bytes({100, 28, 28}, pixel_pattern(784 * 3)));
  expect_error<DataError>([&] { read_idx(dir.file("short.gz"), kIdxImagesMagic); },
                          {dir.file("short.gz"), "expected 100 items (78400 bytes)",
                           "read 2352 bytes (3 complete items)"});
}

std::string_view as_chars(const std::vector<uint8_t>& b) {
  return {reinterpret_cast<const char*>(b.data()), b.size()};
}

TEST_F(DataIdx, DecodesFileImagesInMemoryLikeTheFileReader) {
  for (const char* name : {"img.gz", "img.plain"}) {
    const auto bytes = testing::read_all(dir.file(name));
    const IdxArray mem = decode_idx(as_chars(bytes), kIdxImagesMagic, "mem.idx");
    const IdxArray file = read_idx(dir.file(name), kIdxImagesMagic);
    EXPECT_EQ(mem.dims, file.dims);
    EXPECT_EQ(mem.bytes, file.bytes);
    EXPECT_EQ(decode_idx(as_chars(bytes), kIdxImagesMagic, "mem.idx", 2).dims, (Shape{2, 3, 4}));
  }
  expect_error<DataError>(
      [&] { decode_idx(as_chars(label_bytes(5)), kIdxImagesMagic, "mem.idx"); },
      {"mem.idx: bad magic number 0x00000801", "swapped"});
  // A gzip stream cut short, and one whose deflate data is damaged.
  auto gz = testing::read_all(dir.file("img.gz"));
  const decltype(gz) cut(gz.begin(), gz.begin() + 30);
  expect_error<DataError>([&] { decode_idx(as_chars(cut), kIdxImagesMagic, "mem.gz"); },
                          {"mem.gz: truncated", "zlib: unexpected end of file"});
  for (size_t i = 12; i < gz.size() - 8; ++i) gz[i] ^= 0x5a;
  expect_error<DataError>([&] { decode_idx(as_chars(gz), kIdxImagesMagic, "mem.gz"); },
                          {"mem.gz"});
}

TEST_F(DataIdx, LabelOutsideClassesNamesFileAndItem) {
  std::vector<uint8_t> l(5, 1);
  l[3] = 12;
  testing::write_plain(dir.file("labels12"), idx_bytes({5}, l));
  expect_error<DataError>([&] { load_idx(dir.file("img.gz"), dir.file("labels12"), "t"); },
                          {dir.file("labels12"), "label 12 at item 3 is outside [0, 10)"});
  // With 13 classes the same file is fine.
  EXPECT_EQ(load_idx(dir.file("img.gz"), dir.file("labels12"), "t", 13).labels[3], 12);
}

TEST_F(DataIdx, CountMismatchNamesBothFiles) {
  testing::write_plain(dir.file("labels4"), label_bytes(4));
  expect_error<DataError>([&] { load_idx(dir.file("img.plain"), dir.file("labels4"), "t"); },
                          {dir.file("img.plain"), "5 images", dir.file("labels4"), "4 labels"});
}

TEST(DataIdxReal, FashionMnistTestSetShapesAndLabels) {
  SCULPT_REQUIRE(testing::have_fashion_mnist(), "dataset-fashion-mnist not installed (scripts/deps.sh installs it)");
  const std::string d = testing::kFashionDir;
  const Dataset ds =
      load_idx(d + "/t10k-images-idx3-ubyte.gz", d + "/t10k-labels-idx1-ubyte.gz", "test");
  EXPECT_EQ(ds.size(), 10000);
  EXPECT_EQ(ds.sample_shape, (Shape{1, 28, 28}));
  std::vector<int64_t> hist(10);
  for (int32_t l : ds.labels) ++hist[static_cast<size_t>(l)];
  for (int64_t h : hist) EXPECT_EQ(h, 1000);  // Fashion-MNIST's test set is balanced
  // Known first labels of t10k: ankle boot, pullover, trouser, trouser, shirt.
  EXPECT_EQ(std::vector<int32_t>(ds.labels.begin(), ds.labels.begin() + 5),
            (std::vector<int32_t>{9, 2, 1, 1, 6}));
}

}  // namespace
}  // namespace sculpt::data

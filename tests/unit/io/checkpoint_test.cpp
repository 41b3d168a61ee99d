// Checkpoint files on disk: byte-exact round trips, the kept previous file, I/O errors, and
// restoring a ParamStore by name with every mismatch listed.
#include "io/checkpoint.h"

#include <gtest/gtest.h>
#include <fmt/format.h>
#include <unistd.h>

#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "core/error.h"

namespace sculpt::io {
namespace {

namespace fs = std::filesystem;

class CheckpointTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           fmt::format("sculpt_ckpt_{}_{}", ::getpid(),
                       ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  std::string path(const std::string& name) const { return (dir_ / name).string(); }
  fs::path dir_;
};

std::string read_bytes(const std::string& p) {
  std::ifstream in(p, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

ParamStore make_store(const std::vector<std::pair<std::string, Shape>>& entries, float base) {
  ParamStore ps;
  for (const auto& [name, shape] : entries) ps.add(name, shape);
  ps.finalize();
  for (size_t i = 0; i < ps.count(); ++i)
    for (int64_t j = 0; j < ps.entry(i).size; ++j) ps.value(i)[j] = base + float(i) * 100 + float(j);
  return ps;
}

TEST_F(CheckpointTest, FileLayoutIsSafetensors) {
  const float w[6] = {1, 2, 3, 4, 5, 6.5f};
  const float b[2] = {-1, 0.25f};
  save_checkpoint(path("c.safetensors"), {{"w", {2, 3}, w}, {"b", {2}, b}}, {{"step", "7"}});
  // Read it back by hand, following the format description rather than our decoder.
  const std::string bytes = read_bytes(path("c.safetensors"));
  ASSERT_GE(bytes.size(), 8u);
  uint64_t n = 0;
  std::memcpy(&n, bytes.data(), 8);
  const auto header = nlohmann::json::parse(bytes.substr(8, n));
  EXPECT_EQ(header["w"]["dtype"], "F32");
  EXPECT_EQ(header["w"]["shape"], nlohmann::json({2, 3}));
  EXPECT_EQ(header["__metadata__"]["step"], "7");
  const auto off = header["b"]["data_offsets"].get<std::vector<size_t>>();
  ASSERT_EQ(off[1] - off[0], 8u);
  float got[2];
  std::memcpy(got, bytes.data() + 8 + n + off[0], 8);
  EXPECT_EQ(got[0], -1.0f);
  EXPECT_EQ(got[1], 0.25f);
  EXPECT_EQ(bytes.size(), 8 + n + 32);
}

TEST_F(CheckpointTest, RoundTripIsBitExact) {
  const float w[4] = {1e-38f, -0.0f, 3.4e38f, std::nanf("")};
  save_checkpoint(path("c.safetensors"), {{"w", {4}, w}}, {{"recipe", "[optim]\nlr = 0.1\n"}});
  const Checkpoint ck = load_checkpoint(path("c.safetensors"));
  ASSERT_NE(ck.find("w"), nullptr);
  EXPECT_EQ(std::memcmp(ck.find("w")->data.data(), w, sizeof w), 0);
  EXPECT_EQ(ck.metadata.at("recipe"), "[optim]\nlr = 0.1\n");
}

TEST_F(CheckpointTest, KeepsThePreviousFileAndLeavesNoTemp) {
  const float a[1] = {1}, b[1] = {2};
  const std::string p = path("sub/dir/last.safetensors");  // parents are created
  save_checkpoint(p, {{"x", {1}, a}}, {});
  EXPECT_FALSE(fs::exists(p + ".prev"));
  save_checkpoint(p, {{"x", {1}, b}}, {});
  EXPECT_EQ(load_checkpoint(p).find("x")->data[0], 2.0f);
  EXPECT_EQ(load_checkpoint(p + ".prev").find("x")->data[0], 1.0f);
  EXPECT_FALSE(fs::exists(p + ".tmp"));
}

TEST_F(CheckpointTest, UnwritablePathIsIoErrorWithPath) {
  std::ofstream(path("plain")) << "x";
  const float a[1] = {1};
  try {
    save_checkpoint(path("plain/c.safetensors"), {{"x", {1}, a}}, {});
    FAIL() << "no exception";
  } catch (const IoError& e) {
    EXPECT_NE(e.where().find("plain"), std::string::npos);
  }
  EXPECT_THROW(load_checkpoint(path("missing.safetensors")), IoError);
}

TEST_F(CheckpointTest, TruncatedFileIsDataErrorNamingTheFile) {
  const float w[64] = {};
  save_checkpoint(path("c.safetensors"), {{"w", {64}, w}}, {});
  const std::string bytes = read_bytes(path("c.safetensors"));
  for (size_t keep : {size_t(0), size_t(5), size_t(20), bytes.size() - 4}) {
    std::ofstream(path("t.safetensors"), std::ios::binary) << bytes.substr(0, keep);
    try {
      load_checkpoint(path("t.safetensors"));
      ADD_FAILURE() << "accepted a file cut at " << keep;
    } catch (const DataError& e) {
      EXPECT_EQ(e.where(), path("t.safetensors"));
    }
  }
}

// Every byte of the data section is covered by the crc32 in the header: a flipped bit anywhere
// in it is refused, naming the file; a file without a checksum (another tool's) still loads.
TEST_F(CheckpointTest, ChecksumCatchesEveryDamagedDataByte) {
  const float w[8] = {1, 2, 3, 4, 5, 6, 7, 8};
  save_checkpoint(path("c.safetensors"), {{"w", {8}, w}}, {{"step", "3"}});
  const std::string bytes = read_bytes(path("c.safetensors"));
  uint64_t n = 0;
  std::memcpy(&n, bytes.data(), 8);
  EXPECT_EQ(nlohmann::json::parse(bytes.substr(8, n))["__metadata__"]["crc32"].get<std::string>().size(),
            8u);
  for (size_t i = 8 + n; i < bytes.size(); ++i) {
    std::string bad = bytes;
    bad[i] = static_cast<char>(bad[i] ^ 0x10);
    std::ofstream(path("d.safetensors"), std::ios::binary) << bad;
    try {
      load_checkpoint(path("d.safetensors"));
      ADD_FAILURE() << "accepted a flipped bit at byte " << i;
    } catch (const DataError& e) {
      EXPECT_EQ(e.where(), path("d.safetensors"));
      EXPECT_NE(std::string(e.what()).find("checksum"), std::string::npos) << e.what();
    }
  }
  // Without the key (as Hugging Face's library writes): no check.
  std::string header = bytes.substr(8, n);
  const size_t at = header.find("\"crc32\"");
  ASSERT_NE(at, std::string::npos);
  header.replace(at, 7, "\"crc00\"");
  std::ofstream(path("e.safetensors"), std::ios::binary) << bytes.substr(0, 8) << header
                                                          << bytes.substr(8 + n);
  EXPECT_EQ(load_checkpoint(path("e.safetensors")).find("w")->data[7], 8.0f);
}

TEST_F(CheckpointTest, ParamsRoundTripByName) {
  const ParamStore src = make_store({{"fc1.weight", {3, 2}}, {"fc1.bias", {3}}}, 1.0f);
  std::vector<NamedTensor> tensors = param_tensors(src);
  const float mom[1] = {9};
  tensors.push_back({"opt.momentum.fc1.bias", {1}, mom});  // optimizer state is not a param
  save_checkpoint(path("p.safetensors"), tensors, {});
  // Same names declared in another order: matched by name, not position.
  ParamStore dst = make_store({{"fc1.bias", {3}}, {"fc1.weight", {3, 2}}}, -50.0f);
  restore_params(dst, load_checkpoint(path("p.safetensors")));
  for (const ParamEntry& e : src.entries()) {
    const size_t j = *dst.find(e.name);
    for (int64_t k = 0; k < e.size; ++k) EXPECT_EQ(dst.value(j)[k], src.values()[size_t(e.offset + k)]);
  }
}

TEST_F(CheckpointTest, RestoreListsEveryMismatchAndChangesNothing) {
  const ParamStore src = make_store({{"a", {2}}, {"b", {2, 2}}, {"extra", {1}}}, 1.0f);
  save_checkpoint(path("p.safetensors"), param_tensors(src), {});
  const Checkpoint ck = load_checkpoint(path("p.safetensors"));
  ParamStore dst = make_store({{"a", {2}}, {"b", {4}}, {"missing", {1}}}, 0.0f);
  try {
    restore_params(dst, ck, "p.safetensors");
    FAIL() << "no exception";
  } catch (const DataError& e) {
    EXPECT_NE(e.message().find("missing missing"), std::string::npos) << e.message();
    EXPECT_NE(e.message().find("not in the model extra"), std::string::npos);
    EXPECT_NE(e.message().find("b (checkpoint [2, 2], model [4])"), std::string::npos);
    EXPECT_EQ(e.where(), "p.safetensors");
  }
  EXPECT_EQ(dst.value(0)[0], 0.0f);  // nothing copied

  ParamStore shapes_only = make_store({{"a", {1, 2}}, {"b", {2, 2}}, {"extra", {1}}}, 0.0f);
  EXPECT_THROW(restore_params(shapes_only, ck), ShapeError);
}

}  // namespace
}  // namespace sculpt::io

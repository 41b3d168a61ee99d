// Checkpoint files on disk: byte-exact round trips, the kept previous file, I/O errors, and
// restoring a ParamStore by name with every mismatch listed.
#include "io/checkpoint.h"

#include <fmt/format.h>
#include <gtest/gtest.h>
#include <unistd.h>
#include <zlib.h>

#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <tuple>

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
  const float w[4] = {1e-38f, -0.0f, 3.4e38f, -1.4e-45f};
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

// Every byte of the file is covered by the crc32 in the header (format version 3): a flipped
// bit anywhere in the data or in the header's metadata is refused, naming the file; so is a
// file whose checksum was removed.
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
  // The metadata: a changed value (the step, same length) or a removed checksum.
  for (const auto& [from, to, message] :
       {std::tuple{"\"step\":\"3\"", "\"step\":\"4\"", "checksum mismatch"},
        std::tuple{"\"crc32\"", "\"crc00\"", "the checksum (crc32) is missing"}}) {
    std::string bad = bytes;
    const size_t at = bad.find(from);
    ASSERT_NE(at, std::string::npos) << from;
    bad.replace(at, std::strlen(from), to);
    std::ofstream(path("e.safetensors"), std::ios::binary) << bad;
    try {
      load_checkpoint(path("e.safetensors"));
      ADD_FAILURE() << "accepted " << to;
    } catch (const DataError& e) {
      EXPECT_NE(std::string(e.what()).find(message), std::string::npos) << e.what();
    }
  }
}

// Version 2 files (a crc32 of the data only, or none before it existed) still load, with a
// warning; their data is still checked. Written by hand as the previous Sculpt wrote them.
TEST_F(CheckpointTest, OlderVersionsLoadWithAWarning) {
  const float w[3] = {1, 2, 3};
  const std::string data(reinterpret_cast<const char*>(w), sizeof w);
  const auto crc =
      fmt::format("{:08x}", crc32_z(0, reinterpret_cast<const Bytef*>(data.data()), data.size()));
  std::map<std::string, std::string> meta = {{"format", "sculpt-checkpoint"}, {"version", "2"}};
  std::ofstream(path("no-crc.safetensors"), std::ios::binary)
      << encode_header({{"w", {3}, w}}, meta) << data;
  const Checkpoint a = load_checkpoint(path("no-crc.safetensors"));
  EXPECT_EQ(a.find("w")->data[2], 3.0f);
  ASSERT_EQ(a.warnings.size(), 1u);
  EXPECT_NE(a.warnings[0].find("format version 2"), std::string::npos) << a.warnings[0];
  EXPECT_NE(a.warnings[0].find("neither is its data"), std::string::npos) << a.warnings[0];
  meta["crc32"] = crc;
  std::ofstream(path("crc.safetensors"), std::ios::binary)
      << encode_header({{"w", {3}, w}}, meta) << data;
  const Checkpoint b = load_checkpoint(path("crc.safetensors"));
  ASSERT_EQ(b.warnings.size(), 1u);
  EXPECT_EQ(b.warnings[0].find("neither is its data"), std::string::npos) << b.warnings[0];
  meta["crc32"] = "00000000";
  std::ofstream(path("bad.safetensors"), std::ios::binary)
      << encode_header({{"w", {3}, w}}, meta) << data;
  EXPECT_THROW(load_checkpoint(path("bad.safetensors")), DataError);
  // A current file loads without a warning.
  save_checkpoint(path("new.safetensors"), {{"w", {3}, w}}, {});
  EXPECT_TRUE(load_checkpoint(path("new.safetensors")).warnings.empty());
}

// What a header may not hold: another format, a newer version, a value that is not finite, a
// mask that is not 0/1; a file without a format is another tool's, not a Sculpt checkpoint.
TEST_F(CheckpointTest, FormatVersionValuesAndMasksAreChecked) {
  const float ok[2] = {1, 0}, nan[2] = {1, std::nanf("")}, half[2] = {1, 0.5f};
  // One tensor w = {1, 0} under `meta`, written by hand (no checksum).
  auto write = [&](const std::map<std::string, std::string>& meta) {
    std::ofstream(path("x.safetensors"), std::ios::binary | std::ios::trunc)
        << encode_header({{"w", {2}, ok}}, meta)
        << std::string(reinterpret_cast<const char*>(ok), sizeof ok);
  };
  auto fails = [&](const std::string& message) {
    try {
      load_checkpoint(path("x.safetensors"));
      ADD_FAILURE() << "accepted: " << message;
    } catch (const Error& e) {
      EXPECT_NE(std::string(e.what()).find(message), std::string::npos) << e.what();
    }
  };
  write({});
  fails("not a Sculpt checkpoint: its metadata has no format");
  write({{"format", "pytorch"}, {"version", "2"}});
  fails("its format is 'pytorch'");
  write({{"format", "sculpt-checkpoint"}, {"version", "4"}});
  fails("checkpoint format version 4 is newer than this sculpt reads (3)");
  write({{"format", "sculpt-checkpoint"}});
  fails("no format version");
  save_checkpoint(path("x.safetensors"), {{"w", {2}, nan}}, {});
  EXPECT_THROW(load_checkpoint(path("x.safetensors")), NumericError);
  save_checkpoint(path("x.safetensors"), {{"w", {2}, ok}, {"mask.w", {2}, half}}, {});
  fails("mask 'mask.w' entry 1 is 0.5");
  save_checkpoint(path("x.safetensors"), {{"w", {2}, ok}, {"mask.w", {2}, ok}}, {});
  EXPECT_NO_THROW(load_checkpoint(path("x.safetensors")));
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

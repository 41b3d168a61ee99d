// safetensors decoding against hand-written files (an independent reading of the format) and
// validation of damaged headers: each kind of damage is a DataError naming the file.
#include "io/safetensors.h"

#include <gtest/gtest.h>

#include <cstring>
#include <string>
#include <vector>

#include "core/error.h"

namespace sculpt::io {
namespace {

std::string u64_le(uint64_t v) {
  std::string s(8, '\0');
  for (int i = 0; i < 8; ++i) s[size_t(i)] = char((v >> (8 * i)) & 0xff);
  return s;
}

std::string floats(std::vector<float> v) {
  std::string s(v.size() * 4, '\0');
  std::memcpy(s.data(), v.data(), s.size());
  return s;
}

// A file image from a header text and a data section, as the format describes it.
std::string file(const std::string& header, const std::string& data) {
  return u64_le(header.size()) + header + data;
}

const std::string kData = floats({1.5f, -2.0f, 3.25f});

TEST(Safetensors, DecodesAHandWrittenFile) {
  // Entries out of data order, extra whitespace, metadata last: all legal.
  const std::string header =
      R"({ "b": {"dtype": "F32", "shape": [1], "data_offsets": [8, 12]},
           "a": {"dtype": "F32", "shape": [2, 1], "data_offsets": [0, 8]},
           "__metadata__": {"step": "12", "format": "pt"} }   )";
  const Checkpoint ck = decode_safetensors(file(header, kData), "f.safetensors");
  ASSERT_EQ(ck.tensors.size(), 2u);
  EXPECT_EQ(ck.find("a")->shape, (Shape{2, 1}));
  EXPECT_EQ(ck.find("a")->data, (std::vector<float>{1.5f, -2.0f}));
  EXPECT_EQ(ck.find("b")->data, (std::vector<float>{3.25f}));
  EXPECT_EQ(ck.metadata.at("step"), "12");
  EXPECT_EQ(ck.find("c"), nullptr);
}

TEST(Safetensors, ScalarAndEmptyTensorsAreLegal) {
  const std::string header =
      R"({"s": {"dtype": "F32", "shape": [], "data_offsets": [0, 4]},
          "e": {"dtype": "F32", "shape": [0, 5], "data_offsets": [4, 4]}})";
  const Checkpoint ck = decode_safetensors(file(header, floats({7.0f})), "f");
  EXPECT_EQ(ck.find("s")->data, std::vector<float>{7.0f});
  EXPECT_TRUE(ck.find("e")->data.empty());
}

TEST(Safetensors, EncodeHeaderMatchesTheLayout) {
  const float a[2] = {1, 2};
  const std::string h = encode_header({{"a", {2}, a}}, {{"k", "v"}});
  uint64_t n = 0;
  for (int i = 0; i < 8; ++i) n |= uint64_t(static_cast<unsigned char>(h[size_t(i)])) << (8 * i);
  EXPECT_EQ(n + 8, h.size());
  EXPECT_EQ(h.size() % 8, 0u);  // data starts aligned
  EXPECT_NE(h.find(R"("a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]})"), std::string::npos);
  EXPECT_NE(h.find(R"("__metadata__":{"k":"v"})"), std::string::npos);
  const Checkpoint ck = decode_safetensors(h + floats({1, 2}), "x");
  EXPECT_EQ(ck.find("a")->data, (std::vector<float>{1, 2}));
}

TEST(Safetensors, EncodeRejectsDuplicateAndReservedNames) {
  const float a[1] = {1};
  EXPECT_THROW(encode_header({{"a", {1}, a}, {"a", {1}, a}}, {}), DataError);
  EXPECT_THROW(encode_header({{"__metadata__", {1}, a}}, {}), DataError);
  EXPECT_THROW(encode_header({{"a", {1}, nullptr}}, {}), DataError);
}

// Every damaged image must raise DataError whose where() is the file and whose message names
// the problem.
void expect_damage(const std::string& bytes, const std::string& needle) {
  try {
    decode_safetensors(bytes, "bad.safetensors");
    ADD_FAILURE() << "accepted a damaged file; expected: " << needle;
  } catch (const DataError& e) {
    EXPECT_EQ(e.where(), "bad.safetensors");
    EXPECT_NE(e.message().find(needle), std::string::npos) << e.message();
  }
}

std::string one(const std::string& entry) { return "{\"t\": " + entry + "}"; }

TEST(Safetensors, DamagedFilesAreDataErrors) {
  const std::string ok = R"({"dtype": "F32", "shape": [3], "data_offsets": [0, 12]})";
  ASSERT_NO_THROW(decode_safetensors(file(one(ok), kData), "x"));

  expect_damage("abc", "too short");
  expect_damage(u64_le(1000) + "{}", "exceeds the file size");
  expect_damage(u64_le(uint64_t(1) << 40) + "{}", "byte limit");
  expect_damage(file("{\"t\": ", kData), "not valid JSON");
  expect_damage(file("[1, 2]", kData), "not a JSON object");
  expect_damage(file(one(R"({"dtype": "F16", "shape": [6], "data_offsets": [0, 12]})"), kData),
                "only F32");
  expect_damage(file(one(R"({"shape": [3], "data_offsets": [0, 12]})"), kData), "no dtype");
  expect_damage(file(one(R"({"dtype": "F32", "shape": [-3], "data_offsets": [0, 12]})"), kData),
                "no valid shape");
  expect_damage(file(one(R"({"dtype": "F32", "shape": [3], "data_offsets": [0]})"), kData),
                "no valid data_offsets");
  expect_damage(file(one(R"({"dtype": "F32", "shape": [4], "data_offsets": [0, 16]})"), kData),
                "outside");
  expect_damage(file(one(R"({"dtype": "F32", "shape": [2], "data_offsets": [0, 12]})"), kData),
                "span 12 bytes");
  expect_damage(file(one(R"({"dtype": "F32", "shape": [2], "data_offsets": [0, 8]})"), kData),
                "after the last tensor");
  expect_damage(file(one(R"({"dtype": "F32", "shape": [2], "data_offsets": [8, 4]})"), kData),
                "outside");
  expect_damage(file(R"({"a": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]},
                         "b": {"dtype": "F32", "shape": [2], "data_offsets": [4, 12]}})",
                     kData),
                "overlap");
  expect_damage(file(R"({"a": {"dtype": "F32", "shape": [1], "data_offsets": [4, 8]},
                         "b": {"dtype": "F32", "shape": [1], "data_offsets": [8, 12]}})",
                     kData),
                "unused bytes before tensor 'a'");
  expect_damage(file(R"({"a": {"dtype": "F32", "shape": [3], "data_offsets": [0, 12]},
                         "a": {"dtype": "F32", "shape": [3], "data_offsets": [0, 12]}})",
                     kData),
                "appears twice");
  expect_damage(file(R"({"__metadata__": {"step": 3}})", ""), "not a string");
  expect_damage(file(one(R"({"dtype": "F32", "shape": [4611686018427387904, 4], "data_offsets": [0, 12]})"), kData),
                "more than the limit of 2^31 entries");
  // Found by fuzz/checkpoint_fuzz: a number too large for a double is nlohmann's out_of_range,
  // not a parse_error, and escaped as an internal error.
  expect_damage(file(R"({"a": {"dtype": "F32", "shape": [65e08216], "data_offsets": [0, 4]}})",
                     kData),
                "the header is not valid JSON ([json.exception.out_of_range.406] number overflow");
  // Found by fuzz/checkpoint_fuzz: a tensor name holding a newline, quoted in the message.
  try {
    decode_safetensors(file(R"({"a\nb": {"dtype": "F32", "shape": [1], "data_offsets": [4, 8]},
                                "c": {"dtype": "F32", "shape": [1], "data_offsets": [8, 12]}})",
                            kData),
                       "bad.safetensors");
    ADD_FAILURE() << "accepted a file with unused bytes";
  } catch (const DataError& e) {
    EXPECT_EQ(std::string(e.what()).find('\n'), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("before tensor 'a\\nb'"), std::string::npos) << e.what();
  }
  // Within 64 bits but over the tensor limit: refused before the offsets are even compared.
  expect_damage(
      file(one(R"({"dtype": "F32", "shape": [65536, 65536], "data_offsets": [0, 12]})"), kData),
                "shape [65536, 65536], more than the limit of 2^31 entries");
  // A truncated file: the header promises 12 data bytes, 6 are there.
  expect_damage(file(one(ok), kData.substr(0, 6)), "outside");
}

}  // namespace
}  // namespace sculpt::io

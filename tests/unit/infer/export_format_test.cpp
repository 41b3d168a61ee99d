// The export format: exact round trips of every encoding and dtype, the smallest encoding
// chosen per tensor, 32-bit column indices for wide matrices, the header, and a clear DataError
// (never a crash) for damaged, truncated, future-version and hostile-but-checksummed files.
#include "infer/export_format.h"

#include <gtest/gtest.h>
#include <zlib.h>

#include <cstring>
#include <nlohmann/json.hpp>

#include "core/error.h"
#include "infer_test_util.h"
#include "sparse/half.h"

namespace sculpt::infer {
namespace {

using testing::make_net;
using testing::make_text_net;
using testing::mlp_spec;

ExportModel sample(double sparsity, uint64_t seed = 1) {
  return make_net(mlp_spec(), {1, 6, 6}, sparsity, seed).ex;
}

// A character LSTM with its vocabulary (a newline, a space, an accented letter and a CJK one
// among them, so the symbols take 1 to 3 UTF-8 bytes), half of each weight matrix zero.
ExportModel text_sample() {
  ExportModel m = make_text_net("lstm", 7, 5, 2).ex;
  for (ExportTensor& t : m.tensors)
    if (t.shape.size() >= 2)
      for (size_t i = 0; i < t.values.size(); i += 2) t.values[i] = 0.0f;
  m.header.vocabulary = data::Vocabulary(data::TextVocabulary::kChar,
                                         {U'\n', U' ', U'a', U'b', U'z', U'\u00e9', U'\u6c34'});
  return m;
}

float through_half(float v) { return sparse::half_to_float(sparse::float_to_half(v)); }

std::string error_of(std::string_view bytes) {
  try {
    decode_export(bytes, "model.sculpt");
  } catch (const DataError& e) {
    EXPECT_NE(std::string(e.what()).find("model.sculpt"), std::string::npos) << e.what();
    return e.what();
  }
  return "no error";
}

// Rewrites the JSON header of a valid file with `edit` and recomputes lengths and the CRC, so
// only the decoder's own checks can catch what the edit broke.
std::string with_header(const std::string& file, void (*edit)(nlohmann::json&)) {
  uint32_t len;
  std::memcpy(&len, file.data() + 12, 4);
  nlohmann::json j = nlohmann::json::parse(file.substr(16, len));
  edit(j);
  const std::string h = j.dump();
  std::string out = file.substr(0, 12);
  const auto n = uint32_t(h.size());
  out.append(reinterpret_cast<const char*>(&n), 4);
  out += h;
  out += file.substr(16 + len, file.size() - 16 - len - 4);
  const auto crc = uint32_t(crc32_z(0, reinterpret_cast<const Bytef*>(out.data()), out.size()));
  out.append(reinterpret_cast<const char*>(&crc), 4);
  return out;
}

// Recomputes the CRC after a change to the data bytes.
std::string resealed(std::string file) {
  file.resize(file.size() - 4);
  const auto crc = uint32_t(crc32_z(0, reinterpret_cast<const Bytef*>(file.data()), file.size()));
  file.append(reinterpret_cast<const char*>(&crc), 4);
  return file;
}

TEST(ExportFormat, RoundTripsEveryFormatAndDtypeExactly) {
  for (double sparsity : {0.0, 0.5, 0.95, 1.0}) {
    const ExportModel m = sample(sparsity);
    for (const char* format : {"auto", "dense", "sparse"}) {
      for (bool fp16 : {false, true}) {
        SCOPED_TRACE(fmt::format("sparsity {} format {} fp16 {}", sparsity, format, fp16));
        const EncodedExport e = encode_export(m, {format, fp16});
        std::vector<StoredInfo> stored;
        const ExportModel back = decode_export(e.bytes, "mem", &stored);
        ASSERT_EQ(back.tensors.size(), m.tensors.size());
        for (size_t i = 0; i < m.tensors.size(); ++i) {
          EXPECT_EQ(back.tensors[i].name, m.tensors[i].name);
          EXPECT_EQ(back.tensors[i].shape, m.tensors[i].shape);
          EXPECT_EQ(stored[i].encoding, e.tensors[i].encoding);
          for (size_t j = 0; j < m.tensors[i].values.size(); ++j) {
            const float want = fp16 ? through_half(m.tensors[i].values[j]) : m.tensors[i].values[j];
            ASSERT_EQ(back.tensors[i].values[j], want) << m.tensors[i].name << " entry " << j;
          }
        }
        if (std::string(format) == "dense")
          for (const StoredInfo& s : e.tensors) EXPECT_EQ(s.encoding, Encoding::kDense);
        if (std::string(format) == "sparse")
          for (const StoredInfo& s : e.tensors)
            EXPECT_EQ(s.encoding, s.shape.size() >= 2 ? Encoding::kCsr : Encoding::kDense);
      }
    }
  }
}

TEST(ExportFormat, KeepsTheHeader) {
  ExportModel m = sample(0.3);
  m.header.info["accuracy"] = "0.8962";
  const ExportModel back = decode_export(encode_export(m, {}).bytes, "mem");
  const ExportHeader &a = m.header, &b = back.header;
  ASSERT_EQ(b.spec.layers.size(), a.spec.layers.size());
  for (size_t i = 0; i < a.spec.layers.size(); ++i) {
    EXPECT_EQ(b.spec.layers[i].type, a.spec.layers[i].type);
    EXPECT_EQ(b.spec.layers[i].name, a.spec.layers[i].name);
    EXPECT_EQ(b.spec.layers[i].args, a.spec.layers[i].args);
  }
  EXPECT_EQ(b.input, a.input);
  EXPECT_EQ(b.task, a.task);
  EXPECT_EQ(b.outputs, a.outputs);
  EXPECT_EQ(b.norm_mean, a.norm_mean);
  EXPECT_EQ(b.norm_std, a.norm_std);
  EXPECT_EQ(b.input_format, a.input_format);
  EXPECT_EQ(b.info, a.info);
}

TEST(ExportFormat, KeepsATextModelsVocabulary) {
  const ExportModel chars = text_sample();
  const ExportModel back = decode_export(encode_export(chars, {"auto", true}).bytes, "mem");
  ASSERT_TRUE(back.header.vocabulary.has_value());
  EXPECT_EQ(*back.header.vocabulary, *chars.header.vocabulary);
  EXPECT_EQ(back.header.vocabulary->decode({6, 1, 5, 0}), "\u6c34 \u00e9\n");
  // The header alone (what a model is built from) has it too.
  const std::string bytes = encode_export(chars, {}).bytes;
  uint32_t len;
  std::memcpy(&len, bytes.data() + 12, 4);
  EXPECT_EQ(decode_export_header(bytes.substr(16, len), "mem").vocabulary, chars.header.vocabulary);

  ExportModel bytes_model = make_text_net("gru", 256, 3, 4).ex;
  bytes_model.header.vocabulary = data::Vocabulary(data::TextVocabulary::kByte, {});
  const ExportModel b = decode_export(encode_export(bytes_model, {}).bytes, "mem");
  ASSERT_TRUE(b.header.vocabulary.has_value());
  EXPECT_EQ(b.header.vocabulary->kind(), data::TextVocabulary::kByte);
  EXPECT_EQ(b.header.vocabulary->size(), 256);
  // Models without one (every export before vocabularies were stored) read as before.
  EXPECT_FALSE(decode_export(encode_export(sample(0.5), {}).bytes, "mem").header.vocabulary);
}

TEST(ExportFormat, RejectsADamagedVocabularyWithAValidChecksum) {
  const std::string file = encode_export(text_sample(), {"auto", false}).bytes;
  ASSERT_EQ(error_of(with_header(file, [](nlohmann::json&) {})), "no error");
  struct Case {
    const char* expect;
    void (*edit)(nlohmann::json&);
  };
  const Case cases[] = {
      {"kind 'word' is not char or byte",
       [](nlohmann::json& j) { j["vocabulary"]["kind"] = "word"; }},
      {"not an object with a kind", [](nlohmann::json& j) { j["vocabulary"] = "abc"; }},
      {"not an object with a kind", [](nlohmann::json& j) { j["vocabulary"]["kind"] = 3; }},
      {"missing a field", [](nlohmann::json& j) { j["vocabulary"].erase("symbols"); }},
      {"symbols are not a string",
       [](nlohmann::json& j) {
         j["vocabulary"]["symbols"] = {1, 2};
       }},
      {"has no symbols", [](nlohmann::json& j) { j["vocabulary"]["symbols"] = ""; }},
      {"not in code-point order (U+0061 after U+0062)",
       [](nlohmann::json& j) { j["vocabulary"]["symbols"] = "\n bazxy"; }},
      {"not in code-point order",
       [](nlohmann::json& j) { j["vocabulary"]["symbols"] = "\n aabzy"; }},
      {"of 6 symbols does not fit the model",
       [](nlohmann::json& j) { j["vocabulary"]["symbols"] = "\n abyz"; }},
      {"of 256 symbols does not fit the model",
       [](nlohmann::json& j) {
         j["vocabulary"] = {{"kind", "byte"}};
       }},
      {"of bytes lists symbols", [](nlohmann::json& j) { j["vocabulary"]["kind"] = "byte"; }},
      {"does not fit the model",
       [](nlohmann::json& j) {
         j["input"] = {5, 1};
       }},
  };
  for (const Case& c : cases) {
    const std::string msg = error_of(with_header(file, c.edit));
    EXPECT_NE(msg.find(c.expect), std::string::npos) << "expected '" << c.expect << "': " << msg;
  }
}

TEST(ExportFormat, AutoStoresEachTensorInItsSmallestEncoding) {
  ExportModel m = sample(0.0);
  m.tensors.resize(3);
  Rng rng(3);
  // 3% of a [100, 1000] matrix: CSR's 2-byte indices beat the bitmask's 1000 bits a row.
  m.tensors[0].shape = {100, 1000};
  m.tensors[0].values.assign(100000, 0.0f);
  for (float& v : m.tensors[0].values)
    if (rng.uniform_float() < 0.03f) v = 1.0f + rng.uniform_float();
  m.tensors[1].values.assign(m.tensors[1].values.size(), 0.5f);  // dense
  for (float& v : m.tensors[2].values)
    if (rng.uniform_float() < 0.5f) v = 0.0f;  // half empty: the bitmask
  const EncodedExport e = encode_export(m, {"auto", false});
  EXPECT_EQ(e.tensors[0].encoding, Encoding::kCsr);
  EXPECT_EQ(e.tensors[1].encoding, Encoding::kDense);
  EXPECT_EQ(e.tensors[2].encoding, Encoding::kBitmask);
  // And no other choice would have been smaller, tensor by tensor.
  for (const char* other : {"dense", "sparse"}) {
    const EncodedExport o = encode_export(m, {other, false});
    for (size_t i = 0; i < e.tensors.size(); ++i) EXPECT_LE(e.tensors[i].bytes, o.tensors[i].bytes);
  }
  // CSR with 16-bit indices and fp32 values: 4 (rows + 1) + 6 nnz bytes; bitmask: bits + values.
  EXPECT_EQ(e.tensors[0].bytes, uint64_t(4 * 101 + 6 * e.tensors[0].nnz));
  EXPECT_EQ(e.tensors[2].bytes, uint64_t(960 / 8 + 4 * e.tensors[2].nnz));
}

TEST(ExportFormat, WideMatricesUse32BitColumnIndices) {
  ExportModel m = sample(0.0);
  m.tensors.resize(1);
  ExportTensor& t = m.tensors[0];
  t.shape = {2, 70000};
  t.values.assign(140000, 0.0f);
  for (int64_t c : {0, 65535, 65536, 69999}) t.values[size_t(70000 + c)] = float(c + 1);
  const EncodedExport e = encode_export(m, {"sparse", false});
  EXPECT_EQ(e.tensors[0].bytes, uint64_t(4 * 3 + 8 * 4));
  const ExportModel back = decode_export(e.bytes, "mem");
  EXPECT_EQ(back.tensors[0].values, t.values);
}

TEST(ExportFormat, EveryTruncationIsAClearError) {
  const std::string file = encode_export(sample(0.9), {}).bytes;
  for (const std::string& f : {file, encode_export(text_sample(), {}).bytes})
    for (size_t len = 0; len < f.size(); ++len) {
      const std::string msg = error_of(std::string_view(f).substr(0, len));
      ASSERT_NE(msg, "no error") << "length " << len;
    }
  EXPECT_NE(error_of(std::string_view(file).substr(0, file.size() - 100)).find("truncated"),
            std::string::npos);
}

TEST(ExportFormat, EveryFlippedByteIsCaught) {
  for (const std::string& file :
       {encode_export(sample(0.9), {"auto", true}).bytes, encode_export(text_sample(), {}).bytes})
    for (size_t i = 0; i < file.size(); ++i) {
      std::string bad = file;
      bad[i] = char(bad[i] ^ 0x20);
      const std::string msg = error_of(bad);
      ASSERT_NE(msg, "no error") << "byte " << i;
      if (i >= 16 && i < file.size() - 4 && bad[i] != ' ')
        EXPECT_TRUE(msg.find("CRC32") != std::string::npos ||
                    msg.find("truncated") != std::string::npos ||
                    msg.find("trailing") != std::string::npos)
            << "byte " << i << ": " << msg;
    }
}

TEST(ExportFormat, NamesWrongMagicAndFutureVersions) {
  std::string file = encode_export(sample(0.5), {}).bytes;
  EXPECT_NE(error_of("{\"__metadata__\":{}}  padding").find("not a Sculpt model export"),
            std::string::npos);
  file[8] = 2;  // version 2
  const std::string msg = error_of(file);
  EXPECT_NE(msg.find("version 2 is not supported"), std::string::npos) << msg;
  EXPECT_NE(msg.find("newer Sculpt"), std::string::npos) << msg;
}

TEST(ExportFormat, RejectsHostileHeadersWithAValidChecksum) {
  const std::string file = encode_export(sample(0.9), {"auto", false}).bytes;
  ASSERT_EQ(error_of(with_header(file, [](nlohmann::json&) {})), "no error");
  struct Case {
    const char* expect;
    void (*edit)(nlohmann::json&);
  };
  const Case cases[] = {
      {"nnz", [](nlohmann::json& j) { j["tensors"][0]["nnz"] = 1 << 30; }},
      {"needs", [](nlohmann::json& j) { j["tensors"][0]["bytes"] = 4; }},
      {"invalid shape",
       [](nlohmann::json& j) {
         j["tensors"][0]["shape"] = {-1, 36};
       }},
      {"invalid shape",
       [](nlohmann::json& j) {
         j["tensors"][0]["shape"] = {1 << 30, 1 << 30, 1 << 30};
       }},
      {"unknown encoding", [](nlohmann::json& j) { j["tensors"][0]["encoding"] = "zip"; }},
      {"unknown dtype", [](nlohmann::json& j) { j["tensors"][0]["dtype"] = "f64"; }},
      {"data starts at", [](nlohmann::json& j) { j["tensors"][1]["offset"] = 0; }},
      {"missing a field", [](nlohmann::json& j) { j.erase("tensors"); }},
      {"the input has an invalid shape \"28x28\"", [](nlohmann::json& j) { j["input"] = "28x28"; }},
      {"unknown task", [](nlohmann::json& j) { j["task"] = "ranking"; }},
      {"normalisation", [](nlohmann::json& j) { j["normalize"]["std"] = 0.0; }},
      {"truncated", [](nlohmann::json& j) { j["data_bytes"] = 1ull << 40; }},
      // Found by fuzz/export_fuzz: sizes and floats that nlohmann's get<> would have converted
      // with an undefined cast (UBSan: float-cast-overflow).
      {"data_bytes is not a non-negative integer",
       [](nlohmann::json& j) { j["data_bytes"] = 1e300; }},
      {"nnz is not a non-negative integer",
       [](nlohmann::json& j) { j["tensors"][0]["nnz"] = -1e19; }},
      {"offset is not a non-negative integer",
       [](nlohmann::json& j) { j["tensors"][0]["offset"] = 0.5; }},
      {"outputs is not a non-negative integer", [](nlohmann::json& j) { j["outputs"] = 1e40; }},
      {"normalize.std is not a finite float",
       [](nlohmann::json& j) { j["normalize"]["std"] = 1e300; }},
      {"invalid shape [1e+300,36]",
       [](nlohmann::json& j) {
         j["tensors"][0]["shape"] = {1e300, 36};
       }},
      {"at most 2^31 entries",
       [](nlohmann::json& j) {
         j["tensors"][0]["shape"] = {65536, 65536};
       }},
  };
  for (const Case& c : cases) {
    const std::string msg = error_of(with_header(file, c.edit));
    EXPECT_NE(msg.find(c.expect), std::string::npos) << "expected '" << c.expect << "': " << msg;
  }
}

TEST(ExportFormat, RejectsBadCsrAndBitmaskPayloadsWithAValidChecksum) {
  ExportModel m = sample(0.0);
  m.tensors.resize(1);
  for (size_t i = 0; i < m.tensors[0].values.size(); ++i)
    if (i % 10 != 0) m.tensors[0].values[i] = 0.0f;
  const std::string csr = encode_export(m, {"sparse", false}).bytes;
  uint32_t len;
  std::memcpy(&len, csr.data() + 12, 4);
  const size_t data = 16 + len;
  {  // a row pointer running backwards
    std::string bad = csr;
    const uint32_t big = 1000;
    std::memcpy(bad.data() + data + 4, &big, 4);
    EXPECT_NE(error_of(resealed(bad)).find("row pointer"), std::string::npos);
  }
  {  // a column index past the width
    std::string bad = csr;
    const uint16_t col = 36;
    std::memcpy(bad.data() + data + 4 * 41, &col, 2);
    EXPECT_NE(error_of(resealed(bad)).find("column 36"), std::string::npos);
  }
  {  // NaN among the values
    std::string bad = csr;
    const float nan = std::nanf("");
    std::memcpy(bad.data() + bad.size() - 8, &nan, 4);
    EXPECT_NE(error_of(resealed(bad)).find("not finite"), std::string::npos);
  }
  ExportModel half = sample(0.0);
  half.tensors.resize(1);
  for (size_t i = 0; i < half.tensors[0].values.size(); i += 2) half.tensors[0].values[i] = 0.0f;
  const EncodedExport bm = encode_export(half, {"auto", false});
  ASSERT_EQ(bm.tensors[0].encoding, Encoding::kBitmask);
  std::memcpy(&len, bm.bytes.data() + 12, 4);
  std::string bad = bm.bytes;
  bad[16 + len] = char(0xff);  // more bits set than nnz
  EXPECT_NE(error_of(resealed(bad)).find("bits set"), std::string::npos);
}

}  // namespace
}  // namespace sculpt::infer

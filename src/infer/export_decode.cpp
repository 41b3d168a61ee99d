// Export files: the validating decoder. Every size, offset, index and value is checked
// against the file before it is used; nothing is returned unless all of it checks out.
#include <fmt/format.h>
#include <zlib.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <nlohmann/json.hpp>

#include "core/error.h"
#include "core/limits.h"
#include "data/text.h"
#include "infer/export_detail.h"
#include "infer/export_format.h"
#include "sparse/half.h"

namespace sculpt::infer {

namespace {

using json = nlohmann::json;
using namespace detail;

// Reads values from a tensor's byte range; every read is bounds-checked by the caller's sizes.
struct Cursor {
  const char* p;
  template <class T>
  T get() {
    T v;
    std::memcpy(&v, p, sizeof(T));
    p += sizeof(T);
    return v;
  }
  float value(bool fp16) { return fp16 ? sparse::half_to_float(get<uint16_t>()) : get<float>(); }
};

// A non-negative integer field. nlohmann's get<> would convert a float such as 1e300 with a
// cast whose result is undefined, so the type is checked first.
template <class T>
T integer_field(const json& j, const char* key, const std::string& what, const std::string& where) {
  const json& v = j.at(key);
  SCULPT_CHECK(
      v.is_number_unsigned() && v.get<uint64_t>() <= uint64_t(std::numeric_limits<T>::max()),
      DataError, fmt::format("{}: {} is not a non-negative integer", what, key), where,
      "the file is damaged; export the model again");
  return v.get<T>();
}

// A float field that fits a float (get<float> of 1e300 is undefined as well).
float float_field(const json& j, const char* key, const std::string& where) {
  const json& v = j.at(key);
  SCULPT_CHECK(v.is_number() && std::abs(v.get<double>()) <= std::numeric_limits<float>::max(),
               DataError, fmt::format("normalize.{} is not a finite float", key), where,
               "the file is damaged; export the model again");
  return v.get<float>();
}

Shape checked_shape(const json& j, const std::string& what, const std::string& where) {
  const auto fail = [&] {
    throw DataError(fmt::format("{} has an invalid shape {} (positive integers, at most {} in "
                                "all)",
                                what, j.dump(), kMaxTensorText),
                    where, "the file is damaged; export the model again");
  };
  if (!j.is_array()) fail();
  Shape s;
  for (const json& d : j) {
    if (!d.is_number_unsigned() || d.get<uint64_t>() == 0) fail();
    s.push_back(int64_t(std::min<uint64_t>(d.get<uint64_t>(), uint64_t(kMaxTensorNumel) + 1)));
  }
  if (checked_numel(s) < 0) fail();
  return s;
}

// The values of a dense tensor into v; returns its non-zeros.
int64_t read_dense(Cursor c, int64_t n, bool fp16, float* v) {
  int64_t nnz = 0;
  for (int64_t i = 0; i < n; ++i) nnz += (v[i] = c.value(fp16)) != 0.0f;
  return nnz;
}

// A bitmask of n bits (which entries are stored), then the stored values.
template <class Fail>
void read_bitmask(Cursor c, int64_t n, int64_t nnz, bool fp16, float* v, const Fail& fail) {
  const char* bits = c.p;
  c.p += (n + 7) / 8;
  int64_t set = 0;
  for (int64_t i = 0; i < n; ++i) set += (uint8_t(bits[i / 8]) >> (i % 8)) & 1u;
  if (set != nnz) fail(fmt::format("the bitmask has {} bits set but nnz is {}", set, nnz));
  if (n % 8 != 0 && (uint8_t(bits[n / 8]) >> (n % 8)) != 0) fail("bits set past the last entry");
  for (int64_t i = 0; i < n; ++i)
    if ((uint8_t(bits[i / 8]) >> (i % 8)) & 1u) v[i] = c.value(fp16);
}

// CSR: rows + 1 row pointers, nnz column indices (16 or 32 bits), nnz values.
template <class Fail>
void read_csr(Cursor c, const Matrix m, int64_t nnz, bool fp16, float* v, const Fail& fail) {
  const bool narrow = m.cols <= kNarrowCols;
  std::vector<uint32_t> ptr(size_t(m.rows + 1));
  for (auto& p : ptr) p = c.get<uint32_t>();
  if (ptr[0] != 0 || ptr.back() != uint64_t(nnz)) fail("row pointers do not run from 0 to nnz");
  const char* cols = c.p;
  Cursor vals{cols + nnz * (narrow ? 2 : 4)};
  Cursor ci{cols};
  for (int64_t r = 0; r < m.rows; ++r) {
    if (ptr[size_t(r + 1)] < ptr[size_t(r)] || ptr[size_t(r + 1)] > uint64_t(nnz))
      fail(fmt::format("row pointer {} is out of order", r + 1));
    int64_t prev = -1;
    for (uint32_t k = ptr[size_t(r)]; k < ptr[size_t(r + 1)]; ++k) {
      const int64_t col = narrow ? ci.get<uint16_t>() : ci.get<uint32_t>();
      if (col >= m.cols || col <= prev)
        fail(fmt::format("row {}: column {} is out of range or not ascending", r, col));
      prev = col;
      v[r * m.cols + col] = vals.value(fp16);
    }
  }
}

ExportTensor decode_tensor(const json& jt, std::string_view data, uint64_t& expected_offset,
                           const std::string& where, StoredInfo& info) {
  ExportTensor t;
  t.name = jt.at("name").get<std::string>();
  const std::string what = "tensor '" + t.name + "'";
  auto fail = [&](const std::string& msg) {
    throw DataError(what + ": " + msg, where, "the file is damaged; export the model again");
  };
  t.shape = checked_shape(jt.at("shape"), what, where);
  const std::string enc = jt.at("encoding").get<std::string>();
  const std::string dtype = jt.at("dtype").get<std::string>();
  if (dtype != "f32" && dtype != "f16") fail("unknown dtype '" + dtype + "'");
  const bool fp16 = dtype == "f16";
  const int64_t n = numel(t.shape);
  const auto nnz = integer_field<int64_t>(jt, "nnz", what, where);
  if (nnz < 0 || nnz > n) fail(fmt::format("nnz {} is outside [0, {}]", nnz, n));
  Encoding e = Encoding::kDense;
  if (enc == "csr")
    e = Encoding::kCsr;
  else if (enc == "bitmask")
    e = Encoding::kBitmask;
  else if (enc != "dense")
    fail("unknown encoding '" + enc + "'");
  const auto offset = integer_field<uint64_t>(jt, "offset", what, where);
  const auto bytes = integer_field<uint64_t>(jt, "bytes", what, where);
  const uint64_t need = stored_bytes(e, t.shape, e == Encoding::kDense ? n : nnz, fp16);
  if (offset != expected_offset)
    fail(fmt::format("data starts at {}, expected {}", offset, expected_offset));
  if (bytes != need) fail(fmt::format("holds {} bytes, its encoding needs {}", bytes, need));
  if (offset + bytes > data.size()) fail("data runs past the end of the file");
  expected_offset += bytes;
  info = {t.name, t.shape, e, fp16, e == Encoding::kDense ? 0 : nnz, bytes};

  t.values.assign(size_t(n), 0.0f);
  float* v = t.values.data();
  const Cursor c{data.data() + offset};
  if (e == Encoding::kDense)
    info.nnz = read_dense(c, n, fp16, v);
  else if (e == Encoding::kBitmask)
    read_bitmask(c, n, nnz, fp16, v, fail);
  else
    read_csr(c, as_matrix(t.shape), nnz, fp16, v, fail);
  for (int64_t i = 0; i < n; ++i)
    if (!std::isfinite(v[i])) fail(fmt::format("entry {} is not finite ({})", i, v[i]));
  return t;
}

// The vocabulary of a text model: its kind, a char vocabulary's symbols (UTF-8, strictly
// ascending code points), and its size against the model: input [steps], outputs steps x size.
data::Vocabulary decode_vocabulary(const json& v, const ExportHeader& h, const std::string& where) {
  const auto fail = [&](const std::string& msg) {
    throw DataError("the vocabulary " + msg, where, "the file is damaged; export the model again");
  };
  if (!v.is_object() || !v.at("kind").is_string()) fail("is not an object with a kind");
  const std::string kind = v.at("kind").get<std::string>();
  data::Vocabulary out(data::TextVocabulary::kByte, {});
  if (kind == "char") {
    const json& symbols = v.at("symbols");
    if (!symbols.is_string()) fail("symbols are not a string");
    std::vector<char32_t> chars;
    try {
      chars = data::decode_utf8(symbols.get<std::string>(), "its symbol string");
    } catch (const DataError& e) {
      fail("is damaged: " + e.message());
    }
    if (chars.empty()) fail("has no symbols");
    for (size_t i = 1; i < chars.size(); ++i)
      if (chars[i] <= chars[i - 1])
        fail(fmt::format("symbols are not in code-point order (U+{:04X} after U+{:04X})",
                         uint32_t(chars[i]), uint32_t(chars[i - 1])));
    out = data::Vocabulary(data::TextVocabulary::kChar, std::move(chars));
  } else if (kind != "byte" || v.contains("symbols")) {
    fail(kind == "byte" ? "of bytes lists symbols" : "kind '" + kind + "' is not char or byte");
  }
  if (h.input.size() != 1 || h.outputs != mul_sat(h.input[0], out.size()))
    fail(
        fmt::format("of {} symbols does not fit the model: input [{}], {} outputs (a text model "
                    "predicts one of its symbols at each input position)",
                    out.size(), fmt::join(h.input, ", "), h.outputs));
  return out;
}

ExportHeader decode_header(const json& j, const std::string& where) {
  ExportHeader h;
  SCULPT_CHECK(j.at("format").get<std::string>() == "sculpt-model", DataError,
               "the header's format is not sculpt-model", where, "");
  // The JSON repeats the binary version; both are covered by the CRC, so a difference is a
  // writer's bug or a forged file.
  SCULPT_CHECK(integer_field<uint32_t>(j, "version", "the header", where) == kExportVersion,
               DataError,
               fmt::format("the header's version {} differs from the file's version {}",
                           j.at("version").dump(), kExportVersion),
               where, "the file is damaged; export the model again");
  h.input = checked_shape(j.at("input"), "the input", where);
  h.task = j.at("task").get<std::string>();
  SCULPT_CHECK(h.task == "classification" || h.task == "binary" || h.task == "regression",
               DataError, "unknown task '" + h.task + "'", where, "");
  h.outputs = integer_field<int64_t>(j, "outputs", "the header", where);
  h.norm_mean = float_field(j.at("normalize"), "mean", where);
  h.norm_std = float_field(j.at("normalize"), "std", where);
  SCULPT_CHECK(
      std::isfinite(h.norm_mean) && std::isfinite(h.norm_std) && h.norm_std > 0.0f, DataError,
      fmt::format("invalid normalisation mean {} std {}", h.norm_mean, h.norm_std), where, "");
  h.input_format = j.at("input_format").get<std::string>();
  for (const json& l : j.at("layers")) {
    nn::LayerSpec s{l.at("type").get<std::string>(), l.at("name").get<std::string>(), {}};
    for (const auto& [k, v] : l.at("args").items()) s.args[k] = v.get<double>();
    if (l.contains("inputs")) s.inputs = l.at("inputs").get<std::vector<std::string>>();
    h.spec.layers.push_back(std::move(s));
  }
  h.info = j.at("info").get<std::map<std::string, std::string>>();
  if (j.contains("vocabulary")) h.vocabulary = decode_vocabulary(j.at("vocabulary"), h, where);
  return h;
}

// Magic, version and the header's declared length against the file's; returns that length.
uint32_t checked_header_bytes(std::string_view bytes, const std::string& where,
                              const std::string& again) {
  SCULPT_CHECK(bytes.size() >= kPreamble && std::memcmp(bytes.data(), kExportMagic, 8) == 0,
               DataError, "not a Sculpt model export (wrong magic bytes)", where,
               bytes.substr(0, 8).find("{") != std::string_view::npos || bytes.size() < kPreamble
                   ? "a file written by `sculpt export` starts with SCULPTMD"
                   : "checkpoints are not exports: run `sculpt export --checkpoint <file>`");
  Cursor c{bytes.data() + sizeof(kExportMagic)};
  const auto version = c.get<uint32_t>();
  SCULPT_CHECK(version == kExportVersion, DataError,
               fmt::format("export format version {} is not supported (this build reads "
                           "version {})",
                           version, kExportVersion),
               where,
               version > kExportVersion ? "the file was written by a newer Sculpt; upgrade"
                                        : "the file is damaged; " + again);
  const auto header_bytes = c.get<uint32_t>();
  SCULPT_CHECK(
      header_bytes <= kMaxExportHeaderBytes && kPreamble + header_bytes + kCrcBytes <= bytes.size(),
      DataError,
      fmt::format("truncated: the header declares {} bytes, the file has {} in all", header_bytes,
                  bytes.size()),
      where, again);
  return header_bytes;
}

}  // namespace

ExportModel decode_export(std::string_view bytes, const std::string& where,
                          std::vector<StoredInfo>* stored) {
  const std::string again = "export the model again (sculpt export --checkpoint ...)";
  const uint32_t header_bytes = checked_header_bytes(bytes, where, again);
  uint32_t crc_stored;
  std::memcpy(&crc_stored, bytes.data() + bytes.size() - kCrcBytes, kCrcBytes);
  const uint32_t crc = crc32_of(bytes.substr(0, bytes.size() - kCrcBytes));
  const std::string corrupted =
      fmt::format("corrupted: CRC32 {:08x} does not match the stored {:08x}", crc, crc_stored);
  json j;
  try {
    j = json::parse(bytes.substr(kPreamble, header_bytes));
  } catch (const json::exception& e) {
    // A damaged header is reported as damage when the checksum says so.
    SCULPT_CHECK(crc == crc_stored, DataError, corrupted, where, again);
    throw DataError(fmt::format("the header is not valid JSON ({})", e.what()), where, again);
  }
  try {
    const auto data_bytes = integer_field<uint64_t>(j, "data_bytes", "the header", where);
    const uint64_t total = kPreamble + header_bytes + data_bytes + kCrcBytes;
    SCULPT_CHECK(
        total == bytes.size(), DataError,
        fmt::format("{}: the header declares {} bytes, the file has {}",
                    total > bytes.size() ? "truncated" : "trailing bytes", total, bytes.size()),
        where, again);
    SCULPT_CHECK(crc == crc_stored, DataError, corrupted, where, again);
    ExportModel m;
    m.header = decode_header(j, where);
    const std::string_view data = bytes.substr(kPreamble + header_bytes, data_bytes);
    uint64_t offset = 0;
    for (const json& jt : j.at("tensors")) {
      StoredInfo info;
      m.tensors.push_back(decode_tensor(jt, data, offset, where, info));
      if (stored) stored->push_back(info);
    }
    SCULPT_CHECK(offset == data_bytes, DataError,
                 fmt::format("the tensors cover {} of {} data bytes", offset, data_bytes), where,
                 again);
    return m;
  } catch (const json::exception& e) {
    SCULPT_CHECK(crc == crc_stored, DataError, corrupted, where, again);
    throw DataError(fmt::format("the header is missing a field or has a wrong type ({})", e.what()),
                    where, again);
  }
}

ExportHeader decode_export_header(std::string_view json_text, const std::string& where) {
  try {
    const json j = json::parse(json_text);
    SCULPT_CHECK(j.is_object(), DataError, "the header is not a JSON object", where, "");
    return decode_header(j, where);
  } catch (const json::exception& e) {
    throw DataError(fmt::format("the header is not valid or is missing a field ({})", e.what()),
                    where, "export the model again");
  }
}

}  // namespace sculpt::infer

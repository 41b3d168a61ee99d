// Export files: the per-tensor encodings, the JSON header and the validating decoder.
#include "infer/export_format.h"

#include <fmt/format.h>
#include <zlib.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <nlohmann/json.hpp>

#include "core/error.h"
#include "core/limits.h"
#include "io/atomic_file.h"
#include "sparse/half.h"

namespace sculpt::infer {

namespace {

using json = nlohmann::json;

// Bytes before the header: magic, version, header length.
constexpr size_t kPreamble = sizeof(kExportMagic) + 4 + 4;
constexpr size_t kCrcBytes = 4;
// Column indices fit 16 bits up to this width.
constexpr int64_t kNarrowCols = 65536;

uint32_t crc32_of(std::string_view bytes) {
  return static_cast<uint32_t>(
      crc32_z(crc32_z(0L, Z_NULL, 0), reinterpret_cast<const Bytef*>(bytes.data()), bytes.size()));
}

template <class T>
void put(std::string& out, T v) {
  char b[sizeof(T)];
  std::memcpy(b, &v, sizeof(T));
  out.append(b, sizeof(T));
}

// The tensor viewed as a matrix for CSR: [shape[0], rest].
struct Matrix {
  int64_t rows, cols;
};
Matrix as_matrix(const Shape& s) {
  const int64_t n = numel(s);
  const int64_t rows = s.empty() ? 1 : s[0];
  return {rows, rows == 0 ? 0 : n / rows};
}

int64_t index_bytes(int64_t cols) { return cols <= kNarrowCols ? 2 : 4; }

uint64_t stored_bytes(Encoding e, const Shape& shape, int64_t nnz, bool fp16) {
  const int64_t vb = fp16 ? 2 : 4;
  const Matrix m = as_matrix(shape);
  switch (e) {
    case Encoding::kDense:
      return uint64_t(numel(shape) * vb);
    case Encoding::kCsr:
      return uint64_t(4 * (m.rows + 1) + nnz * (index_bytes(m.cols) + vb));
    case Encoding::kBitmask:
      return uint64_t((numel(shape) + 7) / 8 + nnz * vb);
  }
  return 0;
}

Encoding choose(const ExportTensor& t, int64_t nnz, const ExportOptions& o) {
  if (o.format == "dense") return Encoding::kDense;
  if (o.format == "sparse") return t.shape.size() >= 2 ? Encoding::kCsr : Encoding::kDense;
  Encoding best = Encoding::kDense;
  for (Encoding e : {Encoding::kCsr, Encoding::kBitmask})
    if (stored_bytes(e, t.shape, nnz, o.fp16) < stored_bytes(best, t.shape, nnz, o.fp16)) best = e;
  return best;
}

void put_value(std::string& out, float v, bool fp16) {
  if (fp16)
    put(out, sparse::float_to_half(v));
  else
    put(out, v);
}

void encode_tensor(std::string& out, const ExportTensor& t, Encoding e, bool fp16) {
  const float* v = t.values.data();
  const int64_t n = numel(t.shape);
  if (e == Encoding::kDense) {
    for (int64_t i = 0; i < n; ++i) put_value(out, v[i], fp16);
    return;
  }
  if (e == Encoding::kBitmask) {
    std::string bits(size_t((n + 7) / 8), '\0');
    for (int64_t i = 0; i < n; ++i)
      if (v[i] != 0.0f) bits[size_t(i / 8)] = char(uint8_t(bits[size_t(i / 8)]) | (1u << (i % 8)));
    out += bits;
    for (int64_t i = 0; i < n; ++i)
      if (v[i] != 0.0f) put_value(out, v[i], fp16);
    return;
  }
  const Matrix m = as_matrix(t.shape);
  uint32_t count = 0;
  put(out, count);
  for (int64_t r = 0; r < m.rows; ++r) {
    for (int64_t c = 0; c < m.cols; ++c) count += v[r * m.cols + c] != 0.0f;
    put(out, count);
  }
  const bool narrow = m.cols <= kNarrowCols;
  for (int64_t i = 0; i < n; ++i) {
    if (v[i] == 0.0f) continue;
    const auto c = uint32_t(i % m.cols);
    if (narrow)
      put(out, uint16_t(c));
    else
      put(out, c);
  }
  for (int64_t i = 0; i < n; ++i)
    if (v[i] != 0.0f) put_value(out, v[i], fp16);
}

json header_json(const ExportModel& m, const std::vector<StoredInfo>& stored, uint64_t data_bytes) {
  const ExportHeader& h = m.header;
  json layers = json::array();
  for (const nn::LayerSpec& l : h.spec.layers) {
    json args = json::object();
    for (const auto& [k, v] : l.args) args[k] = v;
    layers.push_back({{"type", l.type}, {"name", l.name}, {"args", args}});
  }
  json tensors = json::array();
  uint64_t offset = 0;
  for (const StoredInfo& s : stored) {
    json t = {{"name", s.name},     {"shape", s.shape},   {"encoding", encoding_name(s.encoding)},
              {"dtype", s.fp16 ? "f16" : "f32"}, {"nnz", s.nnz}, {"offset", offset},
              {"bytes", s.bytes}};
    tensors.push_back(t);
    offset += s.bytes;
  }
  return {{"format", "sculpt-model"},
          {"version", kExportVersion},
          {"input", h.input},
          {"task", h.task},
          {"outputs", h.outputs},
          {"normalize", {{"mean", h.norm_mean}, {"std", h.norm_std}}},
          {"input_format", h.input_format},
          {"layers", layers},
          {"info", h.info},
          {"tensors", tensors},
          {"data_bytes", data_bytes}};
}

// ---- decoding -----------------------------------------------------------------------------

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
  SCULPT_CHECK(v.is_number_unsigned() &&
                   v.get<uint64_t>() <= uint64_t(std::numeric_limits<T>::max()),
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
                                "all)", what, j.dump(), kMaxTensorText),
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
  if (offset != expected_offset) fail(fmt::format("data starts at {}, expected {}", offset, expected_offset));
  if (bytes != need) fail(fmt::format("holds {} bytes, its encoding needs {}", bytes, need));
  if (offset + bytes > data.size()) fail("data runs past the end of the file");
  expected_offset += bytes;
  info = {t.name, t.shape, e, fp16, e == Encoding::kDense ? 0 : nnz, bytes};

  Cursor c{data.data() + offset};
  t.values.assign(size_t(n), 0.0f);
  float* v = t.values.data();
  if (e == Encoding::kDense) {
    for (int64_t i = 0; i < n; ++i) v[i] = c.value(fp16);
    info.nnz = n - std::count(t.values.begin(), t.values.end(), 0.0f);
  } else if (e == Encoding::kBitmask) {
    const char* bits = c.p;
    c.p += (n + 7) / 8;
    int64_t set = 0;
    for (int64_t i = 0; i < n; ++i) set += (uint8_t(bits[i / 8]) >> (i % 8)) & 1u;
    if (set != nnz) fail(fmt::format("the bitmask has {} bits set but nnz is {}", set, nnz));
    if (n % 8 != 0 && (uint8_t(bits[n / 8]) >> (n % 8)) != 0) fail("bits set past the last entry");
    for (int64_t i = 0; i < n; ++i)
      if ((uint8_t(bits[i / 8]) >> (i % 8)) & 1u) v[i] = c.value(fp16);
  } else {
    const Matrix m = as_matrix(t.shape);
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
  for (int64_t i = 0; i < n; ++i)
    if (!std::isfinite(v[i])) fail(fmt::format("entry {} is not finite ({})", i, v[i]));
  return t;
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
  SCULPT_CHECK(std::isfinite(h.norm_mean) && std::isfinite(h.norm_std) && h.norm_std > 0.0f,
               DataError, fmt::format("invalid normalisation mean {} std {}", h.norm_mean, h.norm_std),
               where, "");
  h.input_format = j.at("input_format").get<std::string>();
  for (const json& l : j.at("layers")) {
    nn::LayerSpec s{l.at("type").get<std::string>(), l.at("name").get<std::string>(), {}};
    for (const auto& [k, v] : l.at("args").items()) s.args[k] = v.get<double>();
    h.spec.layers.push_back(std::move(s));
  }
  h.info = j.at("info").get<std::map<std::string, std::string>>();
  return h;
}

}  // namespace

const char* encoding_name(Encoding e) {
  switch (e) {
    case Encoding::kDense:
      return "dense";
    case Encoding::kCsr:
      return "csr";
    case Encoding::kBitmask:
      return "bitmask";
  }
  return "?";
}

EncodedExport encode_export(const ExportModel& m, const ExportOptions& o) {
  SCULPT_CHECK(o.format == "auto" || o.format == "dense" || o.format == "sparse", ConfigError,
               "unknown export format '" + o.format + "'", "--format", "auto, dense or sparse");
  EncodedExport out;
  std::string data;
  for (const ExportTensor& t : m.tensors) {
    SCULPT_CHECK(int64_t(t.values.size()) == numel(t.shape), ShapeError,
                 fmt::format("tensor '{}' has {} values for shape [{}]", t.name, t.values.size(),
                             fmt::join(t.shape, ", ")));
    const int64_t nnz =
        int64_t(t.values.size()) - std::count(t.values.begin(), t.values.end(), 0.0f);
    const Encoding e = choose(t, nnz, o);
    const size_t before = data.size();
    encode_tensor(data, t, e, o.fp16);
    out.tensors.push_back({t.name, t.shape, e, o.fp16, nnz, uint64_t(data.size() - before)});
  }
  const std::string header = header_json(m, out.tensors, data.size()).dump();
  out.bytes.reserve(kPreamble + header.size() + data.size() + kCrcBytes);
  out.bytes.append(kExportMagic, sizeof(kExportMagic));
  put(out.bytes, kExportVersion);
  put(out.bytes, uint32_t(header.size()));
  out.bytes += header;
  out.bytes += data;
  put(out.bytes, crc32_of(out.bytes));
  return out;
}

ExportModel decode_export(std::string_view bytes, const std::string& where,
                          std::vector<StoredInfo>* stored) {
  const std::string again = "export the model again (sculpt export --checkpoint ...)";
  SCULPT_CHECK(bytes.size() >= kPreamble && std::memcmp(bytes.data(), kExportMagic, 8) == 0,
               DataError, "not a Sculpt model export (wrong magic bytes)", where,
               bytes.substr(0, 8).find("{") != std::string_view::npos || bytes.size() < kPreamble
                   ? "a file written by `sculpt export` starts with SCULPTMD"
                   : "checkpoints are not exports: run `sculpt export --checkpoint <file>`");
  Cursor c{bytes.data() + sizeof(kExportMagic)};
  const auto version = c.get<uint32_t>();
  SCULPT_CHECK(version == kExportVersion, DataError,
               fmt::format("export format version {} is not supported (this build reads "
                           "version {})", version, kExportVersion),
               where,
               version > kExportVersion ? "the file was written by a newer Sculpt; upgrade"
                                        : "the file is damaged; " + again);
  const auto header_bytes = c.get<uint32_t>();
  SCULPT_CHECK(header_bytes <= kMaxExportHeaderBytes &&
                   kPreamble + header_bytes + kCrcBytes <= bytes.size(),
               DataError,
               fmt::format("truncated: the header declares {} bytes, the file has {} in all",
                           header_bytes, bytes.size()),
               where, again);
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
    SCULPT_CHECK(total == bytes.size(), DataError,
                 fmt::format("{}: the header declares {} bytes, the file has {}",
                             total > bytes.size() ? "truncated" : "trailing bytes", total,
                             bytes.size()),
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
    throw DataError(fmt::format("the header is missing a field or has a wrong type ({})",
                                e.what()),
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

std::vector<StoredInfo> write_export(const std::string& path, const ExportModel& m,
                                     const ExportOptions& options) {
  EncodedExport e = encode_export(m, options);
  io::write_file_atomic(path, {e.bytes}, "export");
  return std::move(e.tensors);
}

std::string read_export_bytes(const std::string& path) {
  return io::read_whole_file(path, "model", "give a file written by `sculpt export`",
                             kMaxExportBytes);
}

ExportModel read_export(const std::string& path, std::vector<StoredInfo>* stored) {
  return decode_export(read_export_bytes(path), path, stored);
}

}  // namespace sculpt::infer

// Export files: the per-tensor encodings and the JSON header (the decoder: export_decode.cpp).
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
#include "data/text.h"
#include "infer/export_detail.h"
#include "io/atomic_file.h"
#include "sparse/half.h"

namespace sculpt::infer {

namespace {

using json = nlohmann::json;
using namespace detail;

template <class T>
void put(std::string& out, T v) {
  char b[sizeof(T)];
  std::memcpy(b, &v, sizeof(T));
  out.append(b, sizeof(T));
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

// {"kind": "char", "symbols": "<the code points in order, as UTF-8>"} or {"kind": "byte"}.
json vocabulary_json(const data::Vocabulary& v) {
  if (v.kind() == data::TextVocabulary::kByte) return {{"kind", "byte"}};
  std::string symbols;
  for (const char32_t c : v.chars()) symbols += data::encode_utf8(c);
  return {{"kind", "char"}, {"symbols", symbols}};
}

json header_json(const ExportModel& m, const std::vector<StoredInfo>& stored, uint64_t data_bytes) {
  const ExportHeader& h = m.header;
  json layers = json::array();
  for (const nn::LayerSpec& l : h.spec.layers) {
    json args = json::object();
    for (const auto& [k, v] : l.args) args[k] = v;
    json layer = {{"type", l.type}, {"name", l.name}, {"args", args}};
    if (!l.inputs.empty()) layer["inputs"] = l.inputs;  // a graph's joins; a chain has none
    layers.push_back(std::move(layer));
  }
  json tensors = json::array();
  uint64_t offset = 0;
  for (const StoredInfo& s : stored) {
    json t = {{"name", s.name},
              {"shape", s.shape},
              {"encoding", encoding_name(s.encoding)},
              {"dtype", s.fp16 ? "f16" : "f32"},
              {"nnz", s.nnz},
              {"offset", offset},
              {"bytes", s.bytes}};
    tensors.push_back(t);
    offset += s.bytes;
  }
  json j = {{"format", "sculpt-model"},
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
  if (h.vocabulary) j["vocabulary"] = vocabulary_json(*h.vocabulary);
  return j;
}

}  // namespace

const char* encoding_name(Encoding e) {
  constexpr const char* kNames[] = {"dense", "csr", "bitmask"};  // indexed by Encoding
  const auto i = static_cast<size_t>(e);
  return i < std::size(kNames) ? kNames[i] : "?";
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

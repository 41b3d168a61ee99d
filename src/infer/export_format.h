// The export file (`.sculpt`): a compact, self-describing model for inference. See
// docs/formats.md for the byte layout. In short (little-endian):
//
//   "SCULPTMD"  u32 version  u32 header_bytes  header (JSON)  tensor data  u32 CRC32
//
// The JSON header holds the architecture (the layer list a recipe would write, the per-sample
// input shape, the task), the input normalisation, provenance, and per tensor its shape, its
// encoding and where its bytes are. Each tensor is stored in the smallest of:
//   dense    numel values
//   csr      the tensor as a [shape[0], numel/shape[0]] matrix: u32 row pointers (rows + 1),
//            column indices (u16 when the width is at most 65536, else u32), nnz values
//   bitmask  ceil(numel/8) bytes, bit i (LSB first) set when entry i is stored, then nnz values
// with values in fp32 or fp16. The CRC32 (zlib's) covers every byte before it. A text model's
// header also holds its vocabulary (token id <-> character or byte), for generation; the field
// is optional, so it came without a version change (older readers ignore it).
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/shape.h"
#include "data/vocabulary.h"
#include "nn/model.h"

namespace sculpt::infer {

inline constexpr char kExportMagic[8] = {'S', 'C', 'U', 'L', 'P', 'T', 'M', 'D'};
inline constexpr uint32_t kExportVersion = 1;
// Guards against a corrupt length field: no real header comes near this.
inline constexpr uint32_t kMaxExportHeaderBytes = 16u << 20;

enum class Encoding { kDense, kCsr, kBitmask };
const char* encoding_name(Encoding e);

// What the model computes and on what input.
struct ExportHeader {
  nn::ModelSpec spec;   // every layer named (the parameter names derive from them)
  Shape input;          // per-sample input shape, e.g. {1, 28, 28}
  std::string task;     // classification | binary | regression
  int64_t outputs = 0;  // logits per sample
  // Inputs are given in the units the training data was read in (IDX pixels / 255, CSV values
  // as written); the model standardises them itself: x' = (x - norm_mean) / norm_std.
  float norm_mean = 0.0f, norm_std = 1.0f;
  std::string input_format;  // what the training data was: "idx" (pixels / 255) or "csv"
  std::map<std::string, std::string> info;  // provenance: source checkpoint, accuracy, ...
  // A text model (input [steps] token ids, outputs steps x vocabulary size): its characters or
  // bytes. Absent for every other model, and in exports written before it was stored.
  std::optional<data::Vocabulary> vocabulary;
};

// One parameter tensor, decoded to fp32 (pruned entries are exact zeros).
struct ExportTensor {
  std::string name;
  Shape shape;
  std::vector<float> values;  // numel(shape)
};

struct ExportModel {
  ExportHeader header;
  std::vector<ExportTensor> tensors;  // in the model's parameter order
};

struct ExportOptions {
  std::string format = "auto";  // auto (smallest per tensor) | dense | sparse (csr for weights)
  bool fp16 = false;            // values as IEEE half precision
};

// How one tensor was stored.
struct StoredInfo {
  std::string name;
  Shape shape;
  Encoding encoding = Encoding::kDense;
  bool fp16 = false;
  int64_t nnz = 0;
  uint64_t bytes = 0;  // its data in the file
};

struct EncodedExport {
  std::string bytes;  // the whole file
  std::vector<StoredInfo> tensors;
};

// Encodes `m`. Throws ConfigError for an unknown format, ShapeError when a tensor's values do
// not match its shape.
EncodedExport encode_export(const ExportModel& m, const ExportOptions& options);

// Decodes and validates a whole file image: magic, version (a newer one is refused by name),
// declared sizes against the file size (truncation), the CRC32 (corruption), the header's
// fields, the vocabulary (kind, symbols valid UTF-8 in code-point order, its size against the
// outputs), and every tensor's encoding (row pointers, column indices in range and ascending,
// bit counts). Throws DataError naming `where` and the problem; nothing is returned unless
// everything checks out. `stored`, when given, receives how each tensor was stored.
ExportModel decode_export(std::string_view bytes, const std::string& where,
                          std::vector<StoredInfo>* stored = nullptr);

// The header alone, from its JSON text: format, version, input shape, task, outputs,
// normalisation and layer list checked as decode_export checks them (the tensors are not
// read). DataError naming `where`. What a model is built from.
ExportHeader decode_export_header(std::string_view json_text, const std::string& where);

// write_file_atomic + read_whole_file around the two above.
std::vector<StoredInfo> write_export(const std::string& path, const ExportModel& m,
                                     const ExportOptions& options);
ExportModel read_export(const std::string& path, std::vector<StoredInfo>* stored = nullptr);
// The file's bytes, read as read_export reads them (a regular file of at most kMaxExportBytes).
std::string read_export_bytes(const std::string& path);

}  // namespace sculpt::infer

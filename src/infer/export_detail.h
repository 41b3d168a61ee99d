// Internal to src/infer: what the export encoder (export_format.cpp) and the validating decoder
// (export_decode.cpp) share: the file's fixed sizes, the checksum, the matrix view of a tensor
// and the bytes each encoding takes.
#pragma once

#include <zlib.h>

#include <cstdint>
#include <cstring>
#include <string_view>

#include "core/shape.h"
#include "infer/export_format.h"

namespace sculpt::infer::detail {

// Bytes before the header: magic, version, header length.
inline constexpr size_t kPreamble = sizeof(kExportMagic) + 4 + 4;
inline constexpr size_t kCrcBytes = 4;
// Column indices fit 16 bits up to this width.
inline constexpr int64_t kNarrowCols = 65536;

inline uint32_t crc32_of(std::string_view bytes) {
  return static_cast<uint32_t>(
      crc32_z(crc32_z(0L, Z_NULL, 0), reinterpret_cast<const Bytef*>(bytes.data()), bytes.size()));
}

// The tensor viewed as a matrix for CSR: [shape[0], rest].
struct Matrix {
  int64_t rows, cols;
};
inline Matrix as_matrix(const Shape& s) {
  const int64_t n = numel(s);
  const int64_t rows = s.empty() ? 1 : s[0];
  return {rows, rows == 0 ? 0 : n / rows};
}

inline int64_t index_bytes(int64_t cols) { return cols <= kNarrowCols ? 2 : 4; }

inline uint64_t stored_bytes(Encoding e, const Shape& shape, int64_t nnz, bool fp16) {
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

}  // namespace sculpt::infer::detail

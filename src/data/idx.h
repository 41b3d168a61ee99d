// IDX files (the MNIST / Fashion-MNIST format), plain or gzip-compressed (detected by the magic
// bytes 1f 8b, not by the extension). Headers are validated before anything is allocated.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/shape.h"
#include "data/dataset.h"

namespace sculpt::data {

inline constexpr uint32_t kIdxImagesMagic = 0x00000803;  // uint8, 3 dims [N, H, W]
inline constexpr uint32_t kIdxLabelsMagic = 0x00000801;  // uint8, 1 dim [N]

// Raw contents of one IDX file.
struct IdxArray {
  Shape dims;                  // as declared in the header, dims[0] = items
  std::vector<uint8_t> bytes;  // numel(dims) bytes, row-major
};

// Reads an IDX file whose magic must equal `expected_magic` (uint8 data; the magic's low byte
// gives the number of dims). Throws IoError "cannot open <path>" (with `missing_hint` as hint)
// when it cannot be opened; DataError naming the file for a wrong magic (found vs expected),
// an implausible header (more than 2^31 items, a dims product over kMaxTensorNumel of
// core/limits.h or more than the file can hold) and truncated data (expected vs read, including
// zlib's message). max_items > 0 reads only the first max_items items (dims[0] is then the number
// read); the header is still checked against the whole file.
IdxArray read_idx(const std::string& path, uint32_t expected_magic,
                  const std::string& missing_hint = {}, int64_t max_items = 0);
// The same checks on a whole file image in memory (plain or gzip); errors name `where`.
IdxArray decode_idx(std::string_view bytes, uint32_t expected_magic, const std::string& where,
                    int64_t max_items = 0);

// Images [N, H, W] + labels [N] -> classification Dataset named `name`, sample_shape {1, H, W},
// pixels scaled to [0, 1] (x / 255). Labels must be in [0, num_classes) (DataError naming the
// labels file and the item); image and label counts must match (DataError naming both).
// max_items > 0 keeps only the first max_items samples (and decompresses no further).
Dataset load_idx(const std::string& images_path, const std::string& labels_path,
                 const std::string& name, int64_t num_classes = 10, int64_t max_items = 0);

}  // namespace sculpt::data

// The safetensors layout (as written by Hugging Face's library): an 8-byte little-endian header
// length N, N bytes of JSON {"<name>": {"dtype":"F32","shape":[...],"data_offsets":[b,e]}, ...,
// "__metadata__": {string: string}}, then the raw little-endian data (offsets count from there).
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "core/shape.h"

namespace sculpt::io {

// A tensor to write: borrowed data, numel(shape) floats.
struct NamedTensor {
  std::string name;
  Shape shape;
  const float* data = nullptr;
};

struct StoredTensor {
  Shape shape;
  std::vector<float> data;
};

struct Checkpoint {
  std::map<std::string, StoredTensor> tensors;
  std::map<std::string, std::string> metadata;
  // What the reader accepted but the user should hear about (an older format without a full
  // checksum); the CLI prints each as a warning line.
  std::vector<std::string> warnings;

  const StoredTensor* find(const std::string& name) const {
    auto it = tensors.find(name);
    return it == tensors.end() ? nullptr : &it->second;
  }
};

// Largest header we accept: a guard against reading a huge length from a corrupt file.
inline constexpr uint64_t kMaxHeaderBytes = 100ull << 20;

// The 8-byte length and the JSON header (space-padded so the data starts 8-byte aligned).
// Tensors are laid out back to back in the given order. Throws DataError for duplicate or
// reserved names and null data.
std::string encode_header(const std::vector<NamedTensor>& tensors,
                          const std::map<std::string, std::string>& metadata);

// Parses and validates a whole file image: header length vs size, JSON, dtype (F32 only),
// shapes, offsets in bounds and tiling the data exactly (no overlap, no gap). Throws DataError
// naming `where` (the file) and the problem. Nothing is returned unless everything checks out.
Checkpoint decode_safetensors(std::string_view bytes, const std::string& where);

}  // namespace sculpt::io

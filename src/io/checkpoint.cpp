// Checkpoint files: crash-safe writing (temp + fsync + rename, previous file kept), validated
// reading, and the mapping between a ParamStore and named tensors.
#include "io/checkpoint.h"

#include <fmt/format.h>

#include <zlib.h>

#include <cstring>

#include "core/error.h"
#include "core/limits.h"
#include "io/atomic_file.h"

namespace sculpt::io {

namespace {

constexpr const char* kCrcKey = "crc32";

uint32_t crc32_update(uint32_t crc, std::string_view bytes) {
  return static_cast<uint32_t>(
      crc32_z(crc, reinterpret_cast<const Bytef*>(bytes.data()), bytes.size()));
}

}  // namespace

void save_checkpoint(const std::string& path, const std::vector<NamedTensor>& tensors,
                     const std::map<std::string, std::string>& metadata) {
  std::vector<std::string_view> parts{{}};  // the header goes first, once the CRC is known
  uint32_t crc = crc32_update(0, {});
  for (const NamedTensor& t : tensors) {
    parts.emplace_back(reinterpret_cast<const char*>(t.data), size_t(numel(t.shape)) * 4);
    crc = crc32_update(crc, parts.back());
  }
  std::map<std::string, std::string> meta = metadata;
  meta[kCrcKey] = fmt::format("{:08x}", crc);
  const std::string header = encode_header(tensors, meta);
  parts.front() = header;
  write_file_atomic(path, parts, "checkpoint", /*keep_previous=*/true);
}

Checkpoint load_checkpoint(const std::string& path) {
  return decode_checkpoint(
      read_whole_file(path, "checkpoint",
                      "check the path (a run directory keeps checkpoints/last.safetensors)",
                      kMaxCheckpointBytes),
      path);
}

Checkpoint decode_checkpoint(std::string_view bytes, const std::string& path) {
  Checkpoint ck = decode_safetensors(bytes, path);
  // Files from other tools carry no checksum; ours always do (a damaged one is refused).
  const auto it = ck.metadata.find(kCrcKey);
  if (it != ck.metadata.end()) {
    uint64_t header = 0;
    std::memcpy(&header, bytes.data(), sizeof header);  // decode checked it fits the file
    const std::string want = fmt::format(
        "{:08x}", crc32_update(crc32_update(0, {}), bytes.substr(8 + header)));
    SCULPT_CHECK(it->second == want, DataError,
                 fmt::format("checksum mismatch: the tensor data is damaged (crc32 {} in the "
                             "header, {} computed)",
                             it->second, want),
                 path,
                 "the file changed after it was written; a run directory keeps older "
                 "checkpoints/step-*.safetensors to resume from");
  }
  return ck;
}

std::vector<NamedTensor> param_tensors(const ParamStore& ps) {
  std::vector<NamedTensor> out;
  out.reserve(ps.count());
  for (size_t i = 0; i < ps.count(); ++i)
    out.push_back({ps.entry(i).name, ps.entry(i).shape, ps.value(i)});
  return out;
}

std::string TensorMismatch::describe(const std::string& unexpected_label) const {
  std::vector<std::string> parts;
  if (!missing.empty()) parts.push_back(fmt::format("missing {}", fmt::join(missing, ", ")));
  if (!unexpected.empty())
    parts.push_back(fmt::format("{} {}", unexpected_label, fmt::join(unexpected, ", ")));
  if (!wrong_shape.empty())
    parts.push_back(fmt::format("wrong shape {}", fmt::join(wrong_shape, ", ")));
  return fmt::format("{}", fmt::join(parts, "; "));
}

void TensorMismatch::throw_if_any(const std::string& what, const std::string& where,
                                  const std::string& hint,
                                  const std::string& unexpected_label) const {
  if (empty()) return;
  const std::string msg = what + ": " + describe(unexpected_label);
  if (missing.empty() && unexpected.empty()) throw ShapeError(msg, where, hint);
  throw DataError(msg, where, hint);
}

TensorMismatch compare_tensors(const Checkpoint& ck, const std::vector<TensorSpec>& expected,
                               const std::function<bool(const std::string&)>& ignore) {
  TensorMismatch m;
  std::map<std::string, const Shape*> wanted;
  for (const TensorSpec& e : expected) wanted.emplace(e.name, &e.shape);
  for (const auto& [name, shape] : wanted) {
    const StoredTensor* t = ck.find(name);
    if (!t)
      m.missing.push_back(name);
    else if (t->shape != *shape)
      m.wrong_shape.push_back(fmt::format("{} (checkpoint {}, model {})", name, to_string(t->shape),
                                          to_string(*shape)));
  }
  for (const auto& [name, t] : ck.tensors)
    if (!wanted.contains(name) && !(ignore && ignore(name))) m.unexpected.push_back(name);
  return m;
}

bool is_training_state(const std::string& name) {
  return name.starts_with("opt.") || name.starts_with("mask.") || name.starts_with("prune.") ||
         name.starts_with("rewind.");
}

void restore_params(ParamStore& ps, const Checkpoint& ck, const std::string& where) {
  std::vector<TensorSpec> expected;
  for (const ParamEntry& e : ps.entries()) expected.push_back({e.name, e.shape});
  compare_tensors(
      ck, expected,
      [](const std::string& name) { return is_training_state(name); })
      .throw_if_any("the checkpoint does not match the model", where,
                    "was it saved from a different model or recipe?", "not in the model");
  for (size_t i = 0; i < ps.count(); ++i) {
    const StoredTensor& t = *ck.find(ps.entry(i).name);
    std::copy(t.data.begin(), t.data.end(), ps.value(i));
  }
}

}  // namespace sculpt::io

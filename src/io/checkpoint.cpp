// Checkpoint files: crash-safe writing (temp + fsync + rename, previous file kept), validated
// reading, and the mapping between a ParamStore and named tensors.
#include "io/checkpoint.h"

#include <fmt/format.h>
#include <zlib.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstring>
#include <optional>

#include "core/error.h"
#include "core/limits.h"
#include "io/atomic_file.h"

namespace sculpt::io {

namespace {

constexpr const char* kCrcKey = "crc32";
constexpr const char* kFormat = "sculpt-checkpoint";
// How the checksum sits in the header as encode_header writes it (compact JSON).
constexpr std::string_view kCrcField = R"("crc32":")";
constexpr std::string_view kCrcZero = "00000000";
constexpr const char* kDamagedHint =
    "the file changed after it was written; a run directory keeps older "
    "checkpoints/step-*.safetensors to resume from";

uint32_t crc32_update(uint32_t crc, std::string_view bytes) {
  return static_cast<uint32_t>(
      crc32_z(crc, reinterpret_cast<const Bytef*>(bytes.data()), bytes.size()));
}

// Version 3's checksum: the 8-byte length and the JSON header with the crc32 value read as
// "00000000", then the data. `at` is where the value starts in `file`.
uint32_t crc_of_file(std::string_view file, size_t at) {
  uint32_t crc = crc32_update(0, file.substr(0, at));
  crc = crc32_update(crc, kCrcZero);
  return crc32_update(crc, file.substr(at + kCrcZero.size()));
}

std::optional<int> parse_version(const std::string& text) {
  int v = 0;
  const auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc() || p != text.data() + text.size() || text.empty()) return std::nullopt;
  return v;
}

// The format and version in the metadata: a Sculpt checkpoint of a version this build reads.
int checked_version(const Checkpoint& ck, const std::string& path) {
  const auto format = ck.metadata.find("format");
  SCULPT_CHECK(format != ck.metadata.end(), DataError,
               "not a Sculpt checkpoint: its metadata has no format", path,
               "give a checkpoint written by `sculpt train` or `sculpt prune`");
  SCULPT_CHECK(
      format->second == kFormat, DataError,
      fmt::format("not a Sculpt checkpoint: its format is '{}', not '{}'", format->second, kFormat),
      path, "give a checkpoint written by `sculpt train` or `sculpt prune`");
  const auto text = ck.metadata.find("version");
  const std::optional<int> version =
      text == ck.metadata.end() ? std::nullopt : parse_version(text->second);
  SCULPT_CHECK(version && *version >= 1, DataError,
               text == ck.metadata.end()
                   ? std::string("the checkpoint's metadata has no format version")
                   : fmt::format("the checkpoint's format version '{}' is not valid", text->second),
               path, kDamagedHint);
  SCULPT_CHECK(*version <= kCheckpointVersion, DataError,
               fmt::format("checkpoint format version {} is newer than this sculpt reads ({})",
                           *version, kCheckpointVersion),
               path, "read it with the Sculpt version that wrote it");
  return *version;
}

// The crc32: required from version 3 on, where it covers the header too; versions 1 and 2
// covered the data only (when they had one) and load with a warning.
void check_crc(std::string_view bytes, Checkpoint& ck, int version, const std::string& path) {
  const auto it = ck.metadata.find(kCrcKey);
  uint64_t n = 0;
  std::memcpy(&n, bytes.data(), sizeof n);  // decode_safetensors checked that it fits the file
  const std::string_view data = bytes.substr(8 + n);
  if (version < 3) {
    ck.warnings.push_back(fmt::format(
        "written by an older Sculpt (checkpoint format version {}): its metadata (recipe, "
        "training state) is not covered by a checksum{}",
        version, it == ck.metadata.end() ? ", and neither is its data" : ""));
    if (it == ck.metadata.end()) return;
    const std::string want = fmt::format("{:08x}", crc32_update(0, data));
    SCULPT_CHECK(it->second == want, DataError,
                 fmt::format("checksum mismatch: the tensor data is damaged (crc32 {} in the "
                             "header, {} computed)",
                             it->second, want),
                 path, kDamagedHint);
    return;
  }
  SCULPT_CHECK(it != ck.metadata.end(), DataError,
               "the checksum (crc32) is missing from the metadata", path, kDamagedHint);
  const std::string& stored = it->second;
  const bool hex = stored.size() == 8 && std::all_of(stored.begin(), stored.end(), [](char c) {
                     return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
                   });
  const size_t field = bytes.substr(0, 8 + n).find(std::string(kCrcField) + stored + "\"");
  SCULPT_CHECK(hex && field != std::string_view::npos, DataError,
               fmt::format("the checksum (crc32 \"{}\") is not 8 hex digits where Sculpt writes "
                           "it",
                           stored),
               path, kDamagedHint);
  const std::string want = fmt::format("{:08x}", crc_of_file(bytes, field + kCrcField.size()));
  SCULPT_CHECK(stored == want, DataError,
               fmt::format("checksum mismatch: the file is damaged (crc32 {} in the header, {} "
                           "computed over the header and the data)",
                           stored, want),
               path, kDamagedHint);
}

// Every value finite; masks 0 or 1.
void check_values(const Checkpoint& ck, const std::string& path) {
  for (const auto& [name, t] : ck.tensors) {
    const auto bad =
        std::find_if(t.data.begin(), t.data.end(), [](float v) { return !std::isfinite(v); });
    if (bad != t.data.end())
      throw NumericError(
          fmt::format("tensor '{}' entry {} is not finite ({})", name, bad - t.data.begin(), *bad),
          path, "the run diverged or the file was changed; use an earlier checkpoint");
    if (!name.starts_with("mask.")) continue;
    const auto odd =
        std::find_if(t.data.begin(), t.data.end(), [](float k) { return k != 0.0f && k != 1.0f; });
    SCULPT_CHECK(odd == t.data.end(), DataError,
                 fmt::format("mask '{}' entry {} is {}; masks hold only 0 and 1", name,
                             odd - t.data.begin(), *odd),
                 path, "the file was changed after it was written; use an earlier checkpoint");
  }
}

}  // namespace

void save_checkpoint(const std::string& path, const std::vector<NamedTensor>& tensors,
                     const std::map<std::string, std::string>& metadata) {
  std::map<std::string, std::string> meta = metadata;
  meta["format"] = kFormat;
  meta["version"] = std::to_string(kCheckpointVersion);
  meta[kCrcKey] = kCrcZero;
  std::string header = encode_header(tensors, meta);
  const size_t at = header.find(std::string(kCrcField) + std::string(kCrcZero));
  SCULPT_CHECK(at != std::string::npos, DataError, "the checkpoint header has no crc32 field", path,
               "please report this");
  std::vector<std::string_view> parts{{}};  // the header goes first, once the CRC is known
  uint32_t crc = crc32_update(0, std::string_view(header).substr(0, at + kCrcField.size()));
  crc = crc32_update(crc, kCrcZero);
  crc = crc32_update(crc, std::string_view(header).substr(at + kCrcField.size() + 8));
  for (const NamedTensor& t : tensors) {
    parts.emplace_back(reinterpret_cast<const char*>(t.data), size_t(numel(t.shape)) * 4);
    crc = crc32_update(crc, parts.back());
  }
  const std::string hex = fmt::format("{:08x}", crc);
  header.replace(at + kCrcField.size(), 8, hex);
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
  check_crc(bytes, ck, checked_version(ck, path), path);
  check_values(ck, path);
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
         name.starts_with("rewind.") || name.starts_with("carry.");
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

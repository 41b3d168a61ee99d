// safetensors encoding and validating decoding (F32 only). The data section must be tiled
// exactly by the tensors, as the reference implementation requires.
#include "io/safetensors.h"

#include <fmt/format.h>

#include <algorithm>
#include <bit>
#include <cstring>
#include <limits>
#include <nlohmann/json.hpp>
#include <set>

#include "core/error.h"
#include "core/limits.h"

namespace sculpt::io {

static_assert(std::endian::native == std::endian::little,
              "safetensors data is little-endian; add byte swapping for this platform");

namespace {

constexpr const char* kMetadataKey = "__metadata__";

void put_u64_le(std::string& out, uint64_t v) {
  for (int i = 0; i < 8; ++i) out.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
}

uint64_t get_u64_le(std::string_view b) {
  uint64_t v = 0;
  for (int i = 0; i < 8; ++i) v |= uint64_t(static_cast<unsigned char>(b[size_t(i)])) << (8 * i);
  return v;
}

[[noreturn]] void bad(const std::string& where, const std::string& what,
                      const std::string& hint = "the file is damaged or not a Sculpt checkpoint") {
  throw DataError(what, where, hint);
}

// Parses the JSON, rejecting duplicate top-level names (the JSON library would keep the last).
nlohmann::json parse_header(std::string_view text, const std::string& where) {
  std::set<std::string> seen;
  std::string dup;
  auto cb = [&](int depth, nlohmann::json::parse_event_t ev, nlohmann::json& parsed) {
    if (depth == 1 && ev == nlohmann::json::parse_event_t::key && parsed.is_string()) {
      const auto& k = parsed.get_ref<const std::string&>();
      if (!seen.insert(k).second && dup.empty()) dup = k;
    }
    return true;
  };
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(text.begin(), text.end(), cb);
  } catch (const nlohmann::json::exception& e) {  // parse_error, or out_of_range for 1e999
    bad(where, fmt::format("the header is not valid JSON ({})", e.what()));
  }
  if (!dup.empty()) bad(where, fmt::format("tensor '{}' appears twice in the header", dup));
  if (!j.is_object()) bad(where, "the header is not a JSON object");
  return j;
}

// Reads [a, b, ...] of non-negative integers; false if it is anything else.
bool read_uints(const nlohmann::json& j, std::vector<uint64_t>& out) {
  if (!j.is_array()) return false;
  for (const auto& x : j) {
    if (!x.is_number_unsigned()) return false;
    out.push_back(x.get<uint64_t>());
  }
  return true;
}

struct Entry {
  std::string name;
  Shape shape;
  uint64_t begin = 0, end = 0;
};

Entry read_entry(const std::string& name, const nlohmann::json& j, uint64_t data_size,
                 const std::string& where) {
  const std::string t = "tensor '" + name + "'";
  if (!j.is_object()) bad(where, t + " is not a JSON object");
  if (!j.contains("dtype") || !j["dtype"].is_string()) bad(where, t + " has no dtype");
  const std::string dtype = j["dtype"].get<std::string>();
  if (dtype != "F32")
    bad(where, fmt::format("{} has dtype {}; only F32 is supported", t, dtype),
        "convert the tensors to float32 before saving");
  std::vector<uint64_t> shape, offsets;
  if (!j.contains("shape") || !read_uints(j["shape"], shape))
    bad(where, t + " has no valid shape (a list of non-negative integers)");
  if (!j.contains("data_offsets") || !read_uints(j["data_offsets"], offsets) || offsets.size() != 2)
    bad(where, t + " has no valid data_offsets (two non-negative integers)");
  Entry e{name, {}, offsets[0], offsets[1]};
  const int64_t numel = checked_numel(shape);
  if (numel < 0)
    bad(where, fmt::format("{} has shape [{}], more than the limit of {}", t,
                           fmt::join(shape, ", "), kMaxTensorText));
  const auto count = static_cast<uint64_t>(numel);
  e.shape.assign(shape.begin(), shape.end());
  if (e.begin > e.end || e.end > data_size)
    bad(where, fmt::format("{} data_offsets [{}, {}] are outside the {} data bytes", t, e.begin,
                           e.end, data_size));
  if (e.end - e.begin != count * 4)
    bad(where, fmt::format("{} has shape {} ({} bytes) but data_offsets span {} bytes", t,
                           to_string(e.shape), count * 4, e.end - e.begin));
  return e;
}

// The tensors must cover [0, data_size) exactly: no overlap, no gap, nothing after.
void check_tiling(std::vector<Entry>& entries, uint64_t data_size, const std::string& where) {
  std::sort(entries.begin(), entries.end(), [](const Entry& a, const Entry& b) {
    return a.begin != b.begin ? a.begin < b.begin : a.end < b.end;
  });
  uint64_t pos = 0;
  const Entry* prev = nullptr;
  for (const Entry& e : entries) {
    if (e.begin < pos)
      bad(where, fmt::format("tensors '{}' and '{}' overlap", prev->name, e.name));
    if (e.begin > pos) bad(where, fmt::format("{} unused bytes before tensor '{}'", e.begin - pos, e.name));
    pos = e.end;
    prev = &e;
  }
  if (pos != data_size)
    bad(where, fmt::format("{} bytes after the last tensor are not described by the header",
                           data_size - pos));
}

std::map<std::string, std::string> read_metadata(const nlohmann::json& j, const std::string& where) {
  if (!j.is_object()) bad(where, "__metadata__ is not a JSON object");
  std::map<std::string, std::string> out;
  for (const auto& [k, v] : j.items()) {
    if (!v.is_string()) bad(where, fmt::format("__metadata__ value '{}' is not a string", k));
    out[k] = v.get<std::string>();
  }
  return out;
}

}  // namespace

std::string encode_header(const std::vector<NamedTensor>& tensors,
                          const std::map<std::string, std::string>& metadata) {
  nlohmann::ordered_json j = nlohmann::ordered_json::object();
  if (!metadata.empty()) j[kMetadataKey] = metadata;
  uint64_t offset = 0;
  for (const NamedTensor& t : tensors) {
    SCULPT_CHECK(t.name != kMetadataKey && !t.name.empty(), DataError,
                 fmt::format("tensor name '{}' is reserved", t.name));
    SCULPT_CHECK(!j.contains(t.name), DataError, fmt::format("tensor '{}' given twice", t.name));
    for (int64_t d : t.shape)
      SCULPT_CHECK(d >= 0, ShapeError, fmt::format("tensor '{}' has a negative dimension", t.name));
    const uint64_t bytes = uint64_t(numel(t.shape)) * 4;
    SCULPT_CHECK(t.data || bytes == 0, DataError, fmt::format("tensor '{}' has no data", t.name));
    j[t.name] = {{"dtype", "F32"}, {"shape", t.shape}, {"data_offsets", {offset, offset + bytes}}};
    offset += bytes;
  }
  std::string text = j.dump();
  text.append((8 - text.size() % 8) % 8, ' ');  // data starts on an 8-byte boundary
  std::string out;
  put_u64_le(out, text.size());
  return out + text;
}

Checkpoint decode_safetensors(std::string_view bytes, const std::string& where) {
  if (bytes.size() < 8)
    bad(where, fmt::format("the file is {} bytes long, too short for a safetensors header", bytes.size()));
  const uint64_t n = get_u64_le(bytes);
  if (n > kMaxHeaderBytes)
    bad(where, fmt::format("the header length {} exceeds the {} byte limit", n, kMaxHeaderBytes));
  if (n > bytes.size() - 8)
    bad(where, fmt::format("the header length {} exceeds the file size {} (truncated file?)", n,
                           bytes.size()));
  const nlohmann::json j = parse_header(bytes.substr(8, n), where);
  const std::string_view data = bytes.substr(8 + n);

  Checkpoint ck;
  std::vector<Entry> entries;
  for (const auto& [name, v] : j.items()) {
    if (name == kMetadataKey) ck.metadata = read_metadata(v, where);
    else entries.push_back(read_entry(name, v, data.size(), where));
  }
  check_tiling(entries, data.size(), where);
  for (const Entry& e : entries) {
    StoredTensor t{e.shape, std::vector<float>((e.end - e.begin) / 4)};
    if (!t.data.empty()) std::memcpy(t.data.data(), data.data() + e.begin, e.end - e.begin);
    ck.tensors.emplace(e.name, std::move(t));
  }
  return ck;
}

}  // namespace sculpt::io

// IDX reader: a small byte source over stdio or zlib, header validation, then one bulk read.
#include "data/idx.h"

#include <zlib.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <limits>
#include <memory>
#include <string_view>

#include "core/error.h"
#include "core/limits.h"

namespace sculpt::data {

namespace {

constexpr const char* kFashionHint =
    "check data.path; for Fashion-MNIST install Debian's dataset-fashion-mnist "
    "(apt install dataset-fashion-mnist, files in /usr/share/datasets/fashion-mnist)";

// Sequential reader over a plain or gzip file, or over bytes in memory; the format is chosen by
// the first two bytes.
class ByteSource {
 public:
  ByteSource(const std::string& path, const std::string& hint) : path_(path) {
    std::error_code ec;
    if (std::filesystem::is_directory(path, ec)) {
      throw IoError("cannot open " + path + ": it is a directory", "", hint);
    }
    std::FILE* f = std::fopen(path.c_str(), "rb");
    if (!f) throw IoError("cannot open " + path + ": " + std::strerror(errno), "", hint);
    unsigned char m[2] = {0, 0};
    const size_t got = std::fread(m, 1, 2, f);
    gzip_ = got == 2 && m[0] == 0x1f && m[1] == 0x8b;
    std::fseek(f, 0, SEEK_END);
    const long end = std::ftell(f);
    file_size_ = end > 0 ? static_cast<uint64_t>(end) : 0;
    if (gzip_) {
      std::fclose(f);
      gz_ = gzopen(path.c_str(), "rb");
      if (!gz_) throw IoError("cannot open " + path + " (zlib)", "", hint);
      gzbuffer(gz_, 1 << 17);
    } else {
      std::fseek(f, 0, SEEK_SET);
      file_ = f;
    }
  }
  ByteSource(std::string_view bytes, const std::string& where) : path_(where), mem_(bytes) {
    gzip_ = bytes.size() >= 2 && uint8_t(bytes[0]) == 0x1f && uint8_t(bytes[1]) == 0x8b;
    file_size_ = bytes.size();
    if (gzip_) {
      zs_ = std::make_unique<z_stream>();
      // 16 + MAX_WBITS: a gzip wrapper, as gzread expects.
      if (inflateInit2(zs_.get(), 16 + MAX_WBITS) != Z_OK) {
        zs_.reset();
        throw DataError("cannot start zlib's decoder", where);
      }
    }
  }
  ~ByteSource() {
    if (file_) std::fclose(file_);
    if (gz_) gzclose(gz_);
    if (zs_) inflateEnd(zs_.get());
  }
  ByteSource(const ByteSource&) = delete;
  ByteSource& operator=(const ByteSource&) = delete;

  // Reads up to n bytes; returns how many were read (fewer at the end of the data).
  size_t read(uint8_t* dst, size_t n) {
    if (file_) return std::fread(dst, 1, n, file_);
    if (zs_) return inflate_memory(dst, n);
    if (!gz_) {
      const size_t got = std::min(n, mem_.size() - mem_pos_);
      std::memcpy(dst, mem_.data() + mem_pos_, got);
      mem_pos_ += got;
      return got;
    }
    size_t total = 0;
    while (total < n) {
      const unsigned chunk = static_cast<unsigned>(std::min<size_t>(n - total, 1u << 30));
      const int got = gzread(gz_, dst + total, chunk);
      if (got <= 0) break;
      total += static_cast<size_t>(got);
    }
    return total;
  }
  // zlib's explanation of a short read ("unexpected end of file", "invalid distance ..."), or "".
  std::string zlib_error() const {
    if (zs_) return zs_error_;
    if (!gz_) return {};
    int code = Z_OK;
    const char* msg = gzerror(gz_, &code);
    return code == Z_OK || !msg ? std::string{} : std::string(msg);
  }
  bool gzip() const { return gzip_; }
  uint64_t file_size() const { return file_size_; }
  const std::string& path() const { return path_; }

 private:
  size_t inflate_memory(uint8_t* dst, size_t n) {
    size_t total = 0;
    while (total < n && zs_error_.empty()) {
      if (zs_->avail_in == 0 && mem_pos_ < mem_.size()) {
        const size_t in = std::min<size_t>(mem_.size() - mem_pos_, 1u << 30);
        zs_->next_in = reinterpret_cast<Bytef*>(const_cast<char*>(mem_.data() + mem_pos_));
        zs_->avail_in = static_cast<uInt>(in);
        mem_pos_ += in;
      }
      const size_t out = std::min<size_t>(n - total, 1u << 30);
      zs_->next_out = dst + total;
      zs_->avail_out = static_cast<uInt>(out);
      const int rc = inflate(zs_.get(), Z_NO_FLUSH);
      total += out - zs_->avail_out;
      if (rc == Z_STREAM_END) break;
      if (rc == Z_BUF_ERROR && zs_->avail_in == 0 && mem_pos_ == mem_.size()) {
        zs_error_ = "unexpected end of file";
      } else if (rc != Z_OK && rc != Z_BUF_ERROR) {
        zs_error_ = zs_->msg ? zs_->msg : "corrupt deflate stream";
      }
    }
    return total;
  }

  std::string path_;
  std::FILE* file_ = nullptr;
  gzFile gz_ = nullptr;
  bool gzip_ = false;
  uint64_t file_size_ = 0;
  std::string_view mem_;  // memory mode
  size_t mem_pos_ = 0;
  std::unique_ptr<z_stream> zs_;  // memory mode, gzip
  std::string zs_error_;
};

uint32_t big_endian(const uint8_t* p) {
  return (uint32_t{p[0]} << 24) | (uint32_t{p[1]} << 16) | (uint32_t{p[2]} << 8) | p[3];
}

void read_exact(ByteSource& src, uint8_t* dst, size_t n, const char* what) {
  const size_t got = src.read(dst, n);
  if (got == n) return;
  std::string z = src.zlib_error();
  throw DataError(fmt::format("truncated {}: expected {} bytes, read {}{}", what, n, got,
                              z.empty() ? "" : " (zlib: " + z + ")"),
                  src.path(), "the file is incomplete or corrupt; download it again");
}

// Checks the declared dims and returns the number of data bytes they describe.
uint64_t checked_payload(const Shape& dims, const ByteSource& src, uint64_t header_bytes) {
  const std::string& path = src.path();
  if (!dims.empty() && dims[0] > (int64_t{1} << 31)) {
    throw DataError(fmt::format("header declares {} items (more than 2^31)", dims[0]), path,
                    "the file is incomplete or not an IDX file; reinstall or download it again");
  }
  const int64_t numel = checked_numel(dims);
  if (numel < 0) {
    throw DataError(fmt::format("header declares dims {}, more than the limit of {}",
                                to_string(dims), kMaxTensorText),
                    path,
                    "the file is incomplete or not an IDX file; reinstall or download it again");
  }
  const auto total = static_cast<uint64_t>(numel);
  if (!src.gzip() && header_bytes + total > src.file_size()) {
    throw DataError(fmt::format("truncated data: header declares {} items ({} bytes) but the file"
                                " has only {} bytes after the header",
                                dims.empty() ? 0 : dims[0], total, src.file_size() - header_bytes),
                    path, "the file is incomplete; download it again");
  }
  // Deflate cannot compress better than about 1032:1, so a larger claim is a corrupt header.
  if (src.gzip() && total > src.file_size() * 1100 + 4096) {
    throw DataError(fmt::format("truncated or corrupt: header declares {} bytes of data, more "
                                "than a {}-byte gzip file can hold",
                                total, src.file_size()),
                    path,
                    "the file is incomplete or not an IDX file; reinstall or download it again");
  }
  return total;
}

IdxArray read_from(ByteSource& src, uint32_t expected_magic, int64_t max_items) {
  const std::string& path = src.path();
  uint8_t head[4];
  read_exact(src, head, 4, "header (magic number)");
  const uint32_t magic = big_endian(head);
  if (magic != expected_magic) {
    const char* hint = magic == kIdxImagesMagic || magic == kIdxLabelsMagic
                           ? "images and labels files may be swapped"
                           : "not an IDX file of the expected kind";
    throw DataError(
        fmt::format("bad magic number 0x{:08x}, expected 0x{:08x}", magic, expected_magic), path,
        hint);
  }
  const size_t ndims = expected_magic & 0xffu;
  std::vector<uint8_t> dim_bytes(4 * ndims);
  read_exact(src, dim_bytes.data(), dim_bytes.size(), "header (dimensions)");
  IdxArray out;
  for (size_t i = 0; i < ndims; ++i) out.dims.push_back(big_endian(&dim_bytes[4 * i]));
  uint64_t total = checked_payload(out.dims, src, 4 + 4 * ndims);
  const size_t item = out.dims.empty() || out.dims[0] == 0
                          ? 1
                          : static_cast<size_t>(total / static_cast<uint64_t>(out.dims[0]));
  if (max_items > 0 && !out.dims.empty() && out.dims[0] > max_items) {
    out.dims[0] = max_items;
    total = static_cast<uint64_t>(max_items) * item;
  }

  // Grow in chunks so that a lying gzip header fails on the read, not on a huge allocation.
  size_t have = 0;
  while (have < total) {
    const size_t want = static_cast<size_t>(std::min<uint64_t>(total - have, 64u << 20));
    out.bytes.resize(have + want);
    const size_t got = src.read(out.bytes.data() + have, want);
    have += got;
    if (got < want) {
      const std::string z = src.zlib_error();
      throw DataError(
          fmt::format("truncated data: expected {} items ({} bytes), read {} bytes ({} complete "
                      "items){}",
                      out.dims[0], total, have, have / item, z.empty() ? "" : " (zlib: " + z + ")"),
          path, "the file is incomplete or corrupt; download it again");
    }
  }
  return out;
}

}  // namespace

IdxArray read_idx(const std::string& path, uint32_t expected_magic, const std::string& missing_hint,
                  int64_t max_items) {
  ByteSource src(path, missing_hint);
  return read_from(src, expected_magic, max_items);
}

IdxArray decode_idx(std::string_view bytes, uint32_t expected_magic, const std::string& where,
                    int64_t max_items) {
  ByteSource src(bytes, where);
  return read_from(src, expected_magic, max_items);
}

Dataset load_idx(const std::string& images_path, const std::string& labels_path,
                 const std::string& name, int64_t num_classes, int64_t max_items) {
  SCULPT_CHECK(num_classes >= 1 && num_classes <= 256, ConfigError,
               fmt::format("num_classes must be in [1, 256] for IDX labels, got {}", num_classes));
  IdxArray images = read_idx(images_path, kIdxImagesMagic, kFashionHint, max_items);
  IdxArray labels = read_idx(labels_path, kIdxLabelsMagic, kFashionHint, max_items);
  const int64_t n = images.dims[0];
  if (labels.dims[0] != n) {
    const char* more = max_items > 0 ? " (among the first items read)" : "";
    throw DataError(fmt::format("image and label counts differ{}: {} has {} images, {} has {} "
                                "labels",
                                more, images_path, n, labels_path, labels.dims[0]),
                    "", "the files must come from the same split (train or t10k)");
  }
  if (n == 0) throw DataError("the file holds no images", images_path);
  if (images.dims[1] == 0 || images.dims[2] == 0) {
    throw DataError("images have an empty shape " + to_string(images.dims), images_path);
  }
  for (int64_t i = 0; i < n; ++i) {
    const int64_t l = labels.bytes[static_cast<size_t>(i)];
    if (l >= num_classes) {
      throw DataError(fmt::format("label {} at item {} is outside [0, {})", l, i, num_classes),
                      labels_path);
    }
  }
  const int64_t h = images.dims[1], w = images.dims[2];
  Dataset ds;
  ds.name = name;
  ds.task = Task::kClassification;
  ds.sample_shape = {1, h, w};
  ds.num_classes = num_classes;
  ds.x = Tensor(Shape{n, 1, h, w});
  float* x = ds.x.data();
  const size_t count = images.bytes.size();
  for (size_t i = 0; i < count; ++i) x[i] = static_cast<float>(images.bytes[i]) / 255.0f;
  ds.labels.assign(labels.bytes.begin(), labels.bytes.end());
  return ds;
}

}  // namespace sculpt::data

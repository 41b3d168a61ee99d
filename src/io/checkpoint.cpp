// Checkpoint files: crash-safe writing (temp + fsync + rename, previous file kept), validated
// reading, and the mapping between a ParamStore and named tensors.
#include "io/checkpoint.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "core/error.h"

namespace sculpt::io {

namespace {

[[noreturn]] void io_fail(const std::string& what, const std::string& path, int err) {
  throw IoError(fmt::format("{}: {}", what, std::strerror(err)), path,
                "check that the directory exists, is writable and the disk is not full");
}

// Owns a file descriptor so every error path closes it.
struct Fd {
  int fd = -1;
  ~Fd() {
    if (fd >= 0) ::close(fd);
  }
};

void write_all(int fd, const char* p, size_t n, const std::string& path) {
  while (n > 0) {
    const ssize_t w = ::write(fd, p, n);
    if (w < 0 && errno == EINTR) continue;
    if (w < 0) io_fail("cannot write the checkpoint", path, errno);
    p += w;
    n -= size_t(w);
  }
}

void write_file_synced(const std::string& path, const std::string& header,
                       const std::vector<NamedTensor>& tensors) {
  Fd f{::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644)};
  if (f.fd < 0) io_fail("cannot create the checkpoint", path, errno);
  write_all(f.fd, header.data(), header.size(), path);
  for (const NamedTensor& t : tensors)
    write_all(f.fd, reinterpret_cast<const char*>(t.data), size_t(numel(t.shape)) * 4, path);
  if (::fsync(f.fd) != 0) io_fail("cannot flush the checkpoint to disk", path, errno);
  const int fd = f.fd;
  f.fd = -1;
  if (::close(fd) != 0) io_fail("cannot close the checkpoint", path, errno);
}

// Makes the renames durable: without this a crash can forget them.
void sync_directory(const std::filesystem::path& dir, const std::string& path) {
  Fd d{::open(dir.empty() ? "." : dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC)};
  if (d.fd < 0 || ::fsync(d.fd) != 0) io_fail("cannot sync the checkpoint directory", path, errno);
}

// <path> -> <path>.prev while <path> stays in place (a hard link), so a reader never finds the
// checkpoint missing. Falls back to a copy on file systems without hard links.
void keep_previous(const std::string& path) {
  const std::string prev = path + ".prev";
  std::error_code ec;
  if (!std::filesystem::exists(path, ec)) return;
  if (::unlink(prev.c_str()) != 0 && errno != ENOENT)
    io_fail("cannot replace the previous checkpoint", prev, errno);
  if (::link(path.c_str(), prev.c_str()) == 0) return;
  std::filesystem::copy_file(path, prev, std::filesystem::copy_options::overwrite_existing, ec);
  if (ec) io_fail("cannot keep the previous checkpoint", prev, ec.value());
}

}  // namespace

void save_checkpoint(const std::string& path, const std::vector<NamedTensor>& tensors,
                     const std::map<std::string, std::string>& metadata) {
  const std::string header = encode_header(tensors, metadata);
  const std::filesystem::path dir = std::filesystem::path(path).parent_path();
  std::error_code ec;
  if (!dir.empty()) std::filesystem::create_directories(dir, ec);
  if (ec) io_fail("cannot create the checkpoint directory", dir.string(), ec.value());

  const std::string tmp = path + ".tmp";
  write_file_synced(tmp, header, tensors);
  keep_previous(path);
  if (std::rename(tmp.c_str(), path.c_str()) != 0)
    io_fail("cannot move the checkpoint into place", path, errno);
  sync_directory(dir, path);
}

Checkpoint load_checkpoint(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in)
    throw IoError(fmt::format("cannot read the checkpoint: {}", std::strerror(errno)), path,
                  "check the path (a run directory keeps checkpoints/last.safetensors)");
  std::ostringstream buf;
  buf << in.rdbuf();
  if (in.bad()) io_fail("cannot read the checkpoint", path, errno);
  return decode_safetensors(buf.view(), path);
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

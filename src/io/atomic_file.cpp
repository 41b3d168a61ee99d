// Crash-safe whole-file writes and validated whole-file reads.
#include "io/atomic_file.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>

#include "core/error.h"
#include "core/read_file.h"

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

void write_all(int fd, std::string_view bytes, const std::string& what, const std::string& path) {
  const char* p = bytes.data();
  size_t n = bytes.size();
  while (n > 0) {
    const ssize_t w = ::write(fd, p, n);
    if (w < 0 && errno == EINTR) continue;
    if (w < 0) io_fail("cannot write the " + what, path, errno);
    p += w;
    n -= size_t(w);
  }
}

void write_file_synced(const std::string& path, const std::vector<std::string_view>& parts,
                       const std::string& what) {
  Fd f{::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644)};
  if (f.fd < 0) io_fail("cannot create the " + what, path, errno);
  for (std::string_view part : parts) write_all(f.fd, part, what, path);
  if (::fsync(f.fd) != 0) io_fail("cannot flush the " + what + " to disk", path, errno);
  const int fd = f.fd;
  f.fd = -1;
  if (::close(fd) != 0) io_fail("cannot close the " + what, path, errno);
}

// Makes the renames durable: without this a crash can forget them.
void sync_directory(const std::filesystem::path& dir, const std::string& what,
                    const std::string& path) {
  Fd d{::open(dir.empty() ? "." : dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC)};
  if (d.fd < 0 || ::fsync(d.fd) != 0) io_fail("cannot sync the " + what + " directory", path, errno);
}

// <path> -> <path>.prev while <path> stays in place (a hard link), so a reader never finds the
// file missing. Falls back to a copy on file systems without hard links.
void keep_previous_file(const std::string& path, const std::string& what) {
  const std::string prev = path + ".prev";
  std::error_code ec;
  if (!std::filesystem::exists(path, ec)) return;
  if (::unlink(prev.c_str()) != 0 && errno != ENOENT)
    io_fail("cannot replace the previous " + what, prev, errno);
  if (::link(path.c_str(), prev.c_str()) == 0) return;
  std::filesystem::copy_file(path, prev, std::filesystem::copy_options::overwrite_existing, ec);
  if (ec) io_fail("cannot keep the previous " + what, prev, ec.value());
}

}  // namespace

OutputKind output_kind(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) return OutputKind::kNew;
  if (S_ISREG(st.st_mode)) return OutputKind::kRegular;
  if (S_ISCHR(st.st_mode) || S_ISFIFO(st.st_mode)) return OutputKind::kStream;
  if (S_ISDIR(st.st_mode)) return OutputKind::kDirectory;
  return OutputKind::kOther;
}

void write_file_atomic(const std::string& path, const std::vector<std::string_view>& parts,
                       const std::string& what, bool keep_previous,
                       const std::function<void(const std::string&)>& verify) {
  switch (output_kind(path)) {
    case OutputKind::kStream: {  // /dev/null, /dev/stdout, a pipe: written in place
      Fd f{::open(path.c_str(), O_WRONLY | O_CLOEXEC)};
      if (f.fd < 0) io_fail("cannot open the " + what + " for writing", path, errno);
      for (std::string_view part : parts) write_all(f.fd, part, what, path);
      const int fd = f.fd;
      f.fd = -1;
      if (::close(fd) != 0) io_fail("cannot write the " + what, path, errno);
      return;
    }
    case OutputKind::kDirectory:
      throw IoError("is a directory, so the " + what + " cannot be written there", path,
                    "give a file name");
    case OutputKind::kOther:
      throw IoError("is not a regular file (a block device or a socket), so the " + what +
                        " is not written there",
                    path, "give a file name");
    case OutputKind::kNew:
    case OutputKind::kRegular:
      break;
  }
  const std::filesystem::path dir = std::filesystem::path(path).parent_path();
  std::error_code ec;
  if (!dir.empty()) std::filesystem::create_directories(dir, ec);
  if (ec) io_fail("cannot create the " + what + " directory " + dir.string(), path, ec.value());

  // A failed write (a full disk, a file-size limit) or a failed check leaves no temporary file.
  const std::string tmp = path + ".tmp";
  try {
    write_file_synced(tmp, parts, what);
    if (verify) verify(tmp);
  } catch (...) {
    ::unlink(tmp.c_str());
    throw;
  }
  if (keep_previous) keep_previous_file(path, what);
  if (std::rename(tmp.c_str(), path.c_str()) != 0) {
    const int err = errno;
    ::unlink(tmp.c_str());
    io_fail("cannot move the " + what + " into place", path, err);
  }
  sync_directory(dir, what, path);
}

std::string read_whole_file(const std::string& path, const std::string& what,
                            const std::string& hint, int64_t max_bytes) {
  return read_file_capped(
      path, {.what = what, .max_bytes = max_bytes, .regular_only = true, .hint = hint});
}

}  // namespace sculpt::io

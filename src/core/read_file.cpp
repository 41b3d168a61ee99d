// Capped whole-file reads (see read_file.h).
#include "core/read_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "core/error.h"
#include "core/limits.h"

namespace sculpt {

namespace {

struct OpenFd {
  int fd = -1;
  ~OpenFd() {
    if (fd >= 0) ::close(fd);
  }
};

// `size`: the file's size, or empty for a pipe or device that went on past the limit.
[[noreturn]] void too_big(const std::string& path, const FileRead& spec, const std::string& size) {
  const std::string limit = human_bytes_binary(double(spec.max_bytes));
  throw DataError(size.empty()
                      ? fmt::format("more than {} read, the limit for a {}", limit, spec.what)
                      : fmt::format("the file is {}, more than the limit of {} for a {}", size,
                                    limit, spec.what),
                  path, "is this the right file?");
}

}  // namespace

std::string read_file_capped(const std::string& path, const FileRead& spec) {
  OpenFd f{::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK)};
  if (f.fd < 0)
    throw IoError(fmt::format("cannot read the {}: {}", spec.what, std::strerror(errno)), path,
                  spec.hint);
  struct stat st {};
  if (::fstat(f.fd, &st) != 0)
    throw IoError(fmt::format("cannot read the {}: {}", spec.what, std::strerror(errno)), path,
                  spec.hint);
  if (S_ISDIR(st.st_mode))
    throw IoError(fmt::format("is a directory, not a {}", spec.what), path, spec.hint);
  const bool regular = S_ISREG(st.st_mode);
  if (!regular && spec.regular_only)
    throw IoError(
        fmt::format("is not a regular file (a device, a pipe or a socket), so not a {}", spec.what),
        path, spec.hint);
  if (regular && st.st_size > spec.max_bytes)
    too_big(path, spec, human_bytes_binary(double(st.st_size)));
  // Blocking reads from here (O_NONBLOCK only kept open() from waiting for a FIFO's writer).
  ::fcntl(f.fd, F_SETFL, ::fcntl(f.fd, F_GETFL) & ~O_NONBLOCK);
  std::string out;
  if (regular) out.reserve(size_t(st.st_size));
  char buf[1 << 16];
  for (;;) {
    const ssize_t n = ::read(f.fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0)
      throw IoError(fmt::format("cannot read the {}: {}", spec.what, std::strerror(errno)), path,
                    spec.hint);
    if (n == 0) break;
    if (int64_t(out.size()) + n > spec.max_bytes)
      too_big(path, spec, regular ? human_bytes_binary(double(out.size()) + double(n)) : "");
    out.append(buf, size_t(n));
  }
  return out;
}

}  // namespace sculpt

// Whole-file I/O shared by every writer and reader of Sculpt's binary files (checkpoints,
// exports): crash-safe writes (temp file, fsync, rename, directory fsync) and whole-file reads
// with errors that name the file.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

namespace sculpt::io {

// What a path to be written names now.
enum class OutputKind {
  kNew,        // nothing yet
  kRegular,    // a regular file: replaced atomically
  kStream,     // a character device or a FIFO (/dev/null, /dev/stdout, a pipe): written in place
  kDirectory,  // refused
  kOther,      // a block device or a socket: refused
};
OutputKind output_kind(const std::string& path);

// Writes the concatenation of `parts` to <path>.tmp, fsyncs it, calls `verify(tmp path)` (which
// throws to stop), (with keep_previous) keeps the current <path> as <path>.prev via a hard link
// so <path> always exists, renames the temp file over <path> and fsyncs the directory. Creates
// missing parent directories. On any failure the temp file is removed and <path> is as it was.
// A character device or a FIFO at <path> is written in place (no temp file, no rename: the
// device stays a device); a directory, a block device or a socket is refused. `what` names the
// file in errors ("checkpoint", "export"). Throws IoError with the path and the system's reason.
void write_file_atomic(const std::string& path, const std::vector<std::string_view>& parts,
                       const std::string& what, bool keep_previous = false,
                       const std::function<void(const std::string&)>& verify = {});

// The whole of a regular file of at most `max_bytes` (read_file_capped): IoError "cannot read
// the <what>: <reason>" naming the path, with `hint`, also for a directory, a pipe or a device;
// DataError for a larger file.
std::string read_whole_file(const std::string& path, const std::string& what,
                            const std::string& hint, int64_t max_bytes);

}  // namespace sculpt::io

// Whole-file reads with the checks every reader shares: the path must name a file, not a
// directory, and no more than a reader's limit is taken from it, whatever it is. A regular file
// is checked against its size before anything is read; a pipe or a device (`<(...)`,
// /dev/stdin, /dev/zero) is read up to the limit, and one byte more is an error.
#pragma once

#include <cstdint>
#include <string>

namespace sculpt {

struct FileRead {
  std::string what;           // "recipe", "CSV file", "checkpoint": names the file in errors
  int64_t max_bytes = 0;      // the reader's limit (core/limits.h)
  bool regular_only = false;  // binary formats: refuse pipes and devices
  std::string hint;           // for a file that cannot be opened
};

// The whole file. IoError naming `path` when it cannot be opened or read, is a directory, or
// (regular_only) is not a regular file; DataError when it holds more than max_bytes.
std::string read_file_capped(const std::string& path, const FileRead& spec);

}  // namespace sculpt

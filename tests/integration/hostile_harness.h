// Shared by the hostile-input tests (issue 28): a tiny run to break (synthetic blobs, one epoch,
// one thread: a fraction of a second), its export, and the expectation every case shares: one
// line, "sculpt: <kind>: ...", naming what is wrong, with the exit code of its kind.
#pragma once

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>

#include "integration/cli_harness.h"

namespace sculpt::testing {

// A binary classifier on 4 features: trains in about 0.1 s.
inline const char* kHostileRecipe = R"([data]
source = "synthetic-blobs"
samples = 400
features = 4
[model]
name = "binary-mlp"
[train]
epochs = 1
threads = 1
[output]
progress = "none"
)";

inline const std::string kLastCheckpoint = "/checkpoints/last.safetensors";

// <dir>/blobs.toml.
inline std::string hostile_recipe(const TempDir& dir) {
  return dir.write("blobs.toml", kHostileRecipe);
}

// Trains the tiny run into <dir>/<name> (asserting success); returns its path.
inline std::string hostile_run(const TempDir& dir, const std::string& name = "run",
                               const std::string& extra = "") {
  const std::string run = dir.file(name);
  const CliResult r = run_cli("train -q -r " + hostile_recipe(dir) + " -o " + run + extra);
  EXPECT_EQ(r.code, 0) << r.output;
  return run;
}

// The tiny run exported to <run>/model.sculpt; returns the export's path.
inline std::string hostile_export(const std::string& run) {
  const CliResult r = run_cli("export -c " + run);
  EXPECT_EQ(r.code, 0) << r.output;
  return run + "/model.sculpt";
}

// `sculpt ARGS` killed after `seconds` (exit 124 from timeout(1)): a hang fails, not blocks.
inline CliResult run_cli_within(int seconds, const std::string& args) {
  return run_cli_binary("timeout " + std::to_string(seconds) + " " + std::string(SCULPT_CLI), args);
}

inline std::string file_bytes(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(f), {}};
}

inline void put_file_bytes(const std::string& path, const std::string& bytes) {
  std::ofstream(path, std::ios::binary | std::ios::trunc) << bytes;
}

// One line "sculpt: ..." holding `part`, and exit code `code`: never a crash (128 + signal), an
// internal error (1), an out-of-memory report or a second line.
inline void expect_one_error_line(const CliResult& r, int code, const std::string& part) {
  EXPECT_EQ(r.code, code) << r.output;
  EXPECT_EQ(std::count(r.output.begin(), r.output.end(), '\n'), 1) << r.output;
  EXPECT_EQ(r.output.rfind("sculpt: ", 0), 0u) << r.output;
  EXPECT_EQ(r.output.find("out of memory"), std::string::npos) << r.output;
  EXPECT_EQ(r.output.find("internal error"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find(part), std::string::npos) << r.output;
}

inline bool is_root() { return ::geteuid() == 0; }

// A character device node at `path` (mknod, root only) with the numbers of /dev/null (1, 3) or
// /dev/full (1, 7): the tests never touch the machine's own /dev.
inline bool make_char_device(const std::string& path, unsigned major, unsigned minor) {
  return ::mknod(path.c_str(), S_IFCHR | 0666, makedev(major, minor)) == 0;
}

inline bool is_char_device(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0 && S_ISCHR(st.st_mode);
}

}  // namespace sculpt::testing

// Where a command (or the library's Run) writes, checked before it does any work, so that a
// mistaken or failed command destroys nothing the user had: an output is never one of the command's
// inputs; an existing file is replaced only when it is what the command writes (or with --force); a
// directory, a block device or a socket is refused; a character device or a pipe (/dev/null,
// /dev/stdout) is written in place (io::write_file_atomic); a run directory is written only when
// new or empty (or with --force, which removes the previous run's files first).
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace sculpt::io {

struct OutputFile {
  std::string path;
  std::string option;                    // "--out", "--plot": names it in errors
  std::string what;                      // "export", "predictions", "report", "plot"
  std::vector<std::string_view> begins;  // how a file this command writes begins
  std::vector<std::string> inputs;       // paths the command reads (files or directories)
  bool force = false;
};

// ConfigError naming the option and the path when the output is (or is inside) an input, is
// a directory or another non-regular file that is not a stream, or is an existing non-empty
// file that does not begin as this command's files do (unless force). Writes nothing.
void check_output_file(const OutputFile& out);

// The same for a run directory given with --out: ConfigError when it is a file, when it holds
// one of `inputs`, or (without force) when it holds anything (a previous run: the hint names
// `sculpt train --resume`). Writes nothing; prepare_run_dir does the clearing.
void check_run_dir(const std::string& dir, const std::vector<std::string>& inputs, bool force);

// With force, removes the files a run directory of Sculpt holds (checkpoints/, metrics.jsonl,
// recipe.toml, report.html, model.sculpt, prune.json, prune.txt, sensitivity.*) so that the new
// run does not mix with the old one; other files stay.
void clear_previous_run(const std::string& dir);

}  // namespace sculpt::io

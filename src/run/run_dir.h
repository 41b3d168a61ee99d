// Run directories: runs/<name>-<YYYYmmdd-HHMMSS>/ (or an explicit --out), created with their
// checkpoints/ folder; small text files written whole; the files a resumed run reads.
#pragma once

#include <string>

#include "io/recipe.h"

namespace sculpt::run {

// Creates the directory (and checkpoints/). Throws IoError naming the path.
std::string make_run_dir(const RecipeConfig& r, const std::string& recipe_path,
                         const std::string& out);
// io::write_file_atomic: a crash leaves the old file or the new one; a device is written in place.
void write_text_file(const std::string& path, const std::string& text);
std::string read_text_file(const std::string& path);

// The files of a run directory that --resume needs.
struct RunFiles {
  std::string dir, recipe, metrics;
};
// Checks that `dir` is a run directory with recipe.toml (its checkpoint is chosen by
// newest_valid_checkpoint). Throws IoError naming what is missing, with a hint.
RunFiles resume_files(const std::string& dir);

// Makes metrics.jsonl agree with a checkpoint after `epochs` complete epochs and `step` steps
// (`begun`: inside the next epoch) before a resumed run appends to it: drops records past the
// checkpoint in step or epoch (the run went on after its last checkpoint, e.g. it died
// mid-epoch), "epoch" records of an epoch the checkpoint has not closed (a checkpoint taken at
// an epoch's last step precedes that epoch's record, which the resumed run writes again), lines
// that are not JSON (a torn last write) and earlier "end" records (the resumed run writes the
// final one). Rewrites the file only when something is dropped; returns the number of lines
// dropped. A missing file is not an error (0).
int64_t trim_metrics(const std::string& path, int64_t epochs, int64_t step, bool begun);

// The end of a run: writes <dir>/report.html from the run's files; returns the report's text
// summary (what `sculpt train` prints at the end).
std::string write_report(const std::string& dir);

}  // namespace sculpt::run

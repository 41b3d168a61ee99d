// A run directory's checkpoints: checkpoints/step-<step>.safetensors written atomically, the
// newest `keep` of them kept, and checkpoints/last.safetensors a hard link to the newest (what
// `eval`, `export` and `prune` read). Resuming takes the newest one that loads and validates.
#pragma once

#include <string>
#include <vector>

#include "io/safetensors.h"
#include "train/trainer.h"

namespace sculpt::run {

// Saves the trainer's checkpoint as checkpoints/step-<step>.safetensors (temp file, fsync,
// rename, directory fsync), points last.safetensors at it (a link renamed into place), then
// tidies (below). A failure (disk full, read-only directory) throws IoError naming the file;
// the checkpoints written before stay intact.
void save_run_checkpoint(const train::Trainer& t, const std::string& dir, int64_t keep);

// Removes the temporary files a killed run left (and the .prev copy io::save_checkpoint keeps
// when a resumed run writes a step again), step files past `step` (a future the run has
// abandoned: checkpoints a resume skipped as damaged) and all but the newest `keep` of the rest.
// Never throws: a file that will not go away is only disk space.
void tidy_checkpoints(const std::string& dir, int64_t step, int64_t keep);

// The step files of `dir`, newest first, then last.safetensors when it exists.
std::vector<std::string> checkpoint_candidates(const std::string& dir);

struct LoadedCheckpoint {
  std::string path;
  io::Checkpoint ck;
};
// The newest candidate that reads and validates (checksum included); each newer one skipped is
// then a warning on stderr naming the file and why. When none loads, throws the newest one's
// error (one line); IoError when there is no checkpoint at all.
LoadedCheckpoint newest_valid_checkpoint(const std::string& dir);

// io::load_checkpoint, then each of its warnings (an older format) on stderr:
// "sculpt: warning: <path>: ...".
io::Checkpoint load_checkpoint_warning(const std::string& path);
void print_checkpoint_warnings(const io::Checkpoint& ck, const std::string& path);

}  // namespace sculpt::run

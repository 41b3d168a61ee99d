// Checkpoints: safetensors files written atomically (temp file, fsync, rename; the previous
// file is kept as <path>.prev), read back with full validation, and mapped onto a ParamStore
// by parameter name. Optimizer state is stored as "opt.<state>.<param>", masks as
// "mask.<param>" (see ARCHITECTURE.md; is_training_state lists every such prefix);
// restore_params() ignores those.
#pragma once

#include <functional>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "core/param_store.h"
#include "io/safetensors.h"

namespace sculpt::io {

// The checkpoint format version this build writes (metadata "version"): 1 held weights only;
// 2 added the training state and a crc32 of the data; 3 makes the crc32 cover the header (the
// metadata: recipe, training state; the tensor names, shapes and offsets) as well, and makes it
// mandatory.
inline constexpr int kCheckpointVersion = 3;

// Writes <path>.tmp, fsyncs it, keeps the current <path> as <path>.prev (hard link, so <path>
// always exists), renames the temp file over <path> and fsyncs the directory. Creates missing
// parent directories. Adds "format" = "sculpt-checkpoint", "version" and "crc32" (zlib's CRC-32
// of the 8-byte length, the header with this value read as "00000000", and the data) to the
// metadata. Throws IoError with the path and the system's reason.
void save_checkpoint(const std::string& path, const std::vector<NamedTensor>& tensors,
                     const std::map<std::string, std::string>& metadata);

// Reads and validates the whole file (see decode_checkpoint). IoError if it cannot be read.
Checkpoint load_checkpoint(const std::string& path);

// Validates a whole file image, naming `path` in every error: a valid F32 safetensors file (see
// decode_safetensors) whose metadata says format "sculpt-checkpoint" and a version this build
// reads (DataError otherwise), whose crc32 matches (version 3: required, over the header and the
// data; versions 1 and 2: over the data when present, and the file loads with a warning in
// Checkpoint::warnings), whose values are all finite (NumericError naming the tensor and the
// entry) and whose masks hold only 0 and 1 (DataError).
Checkpoint decode_checkpoint(std::string_view bytes, const std::string& path);

// One NamedTensor per parameter, keyed by its name ("fc1.weight"), viewing the store's values.
std::vector<NamedTensor> param_tensors(const ParamStore& ps);

// A tensor a checkpoint is expected to hold.
struct TensorSpec {
  std::string name;
  Shape shape;
};

// Every difference between the tensors a checkpoint should hold and those it holds.
struct TensorMismatch {
  std::vector<std::string> missing;      // expected, absent from the checkpoint
  std::vector<std::string> unexpected;   // in the checkpoint, not expected
  std::vector<std::string> wrong_shape;  // "fc1.bias (checkpoint [3], model [4])"

  bool empty() const { return missing.empty() && unexpected.empty() && wrong_shape.empty(); }
  // "missing a, b; <unexpected_label> c; wrong shape d (checkpoint [2], model [3])".
  std::string describe(const std::string& unexpected_label = "unexpected") const;
  // DataError when names differ, ShapeError when only shapes do; does nothing when empty().
  void throw_if_any(const std::string& what, const std::string& where, const std::string& hint,
                    const std::string& unexpected_label = "unexpected") const;
};

// Compares `ck` with `expected` by name and shape (names in sorted order). Checkpoint names for
// which `ignore` returns true are not reported as unexpected.
TensorMismatch compare_tensors(const Checkpoint& ck, const std::vector<TensorSpec>& expected,
                               const std::function<bool(const std::string&)>& ignore = {});

// Whether a checkpoint tensor is training state rather than a parameter: optimizer state
// "opt.<state>.<param>", masks "mask.<param>", a pruning criterion's statistic
// "prune.stat.<param>", lottery-ticket rewind weights "rewind.<param>" and a recurrent layer's
// carried state "carry.<layer>" (train.tbptt, inside an epoch).
bool is_training_state(const std::string& name);

// Copies every parameter of `ps` from `ck`. Training-state tensors (is_training_state) are
// skipped. Lists every missing, extra and shape-mismatched name in one
// error (DataError when names differ, ShapeError when only shapes do) and changes nothing then.
void restore_params(ParamStore& ps, const Checkpoint& ck, const std::string& where = {});

}  // namespace sculpt::io

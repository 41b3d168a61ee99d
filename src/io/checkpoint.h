// Checkpoints: safetensors files written atomically (temp file, fsync, rename; the previous
// file is kept as <path>.prev), read back with full validation, and mapped onto a ParamStore
// by parameter name. Optimizer state is stored as "opt.<state>.<param>", masks as
// "mask.<param>" (see ARCHITECTURE.md); restore_params() ignores those.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "core/param_store.h"
#include "io/safetensors.h"

namespace sculpt::io {

// Writes <path>.tmp, fsyncs it, keeps the current <path> as <path>.prev (hard link, so <path>
// always exists), renames the temp file over <path> and fsyncs the directory. Creates missing
// parent directories. Throws IoError with the path and the system's reason.
void save_checkpoint(const std::string& path, const std::vector<NamedTensor>& tensors,
                     const std::map<std::string, std::string>& metadata);

// Reads and validates the whole file (see decode_safetensors). IoError if it cannot be read,
// DataError naming the file if it is not a valid F32 safetensors file.
Checkpoint load_checkpoint(const std::string& path);

// One NamedTensor per parameter, keyed by its name ("fc1.weight"), viewing the store's values.
std::vector<NamedTensor> param_tensors(const ParamStore& ps);

// Copies every parameter of `ps` from `ck`. Names starting with "opt." or "mask." are not
// parameters and are skipped. Lists every missing, extra and shape-mismatched name in one
// error (DataError when names differ, ShapeError when only shapes do) and changes nothing then.
void restore_params(ParamStore& ps, const Checkpoint& ck, const std::string& where = {});

}  // namespace sculpt::io

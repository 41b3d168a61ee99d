// Reading a run directory back for reports: metrics.jsonl (a missing file, a torn last line or
// garbage lines become notes, never errors: a run killed mid-write still has a report),
// recipe.toml (its text and the few keys the charts need), the sizes of its checkpoint
// (last.safetensors) and export files, and the layer sensitivity table of `sculpt prune
// sensitivity` when present.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "report/metrics.h"

namespace sculpt::report {

struct FileSize {
  std::string path;  // relative to the run directory: "checkpoints/last.safetensors"
  int64_t bytes = 0;
};

struct SensitivityPoint {
  std::string layer;
  double sparsity = 0.0, val_acc = 0.0;  // fractions
};

struct RunData {
  std::string dir, name;         // name: the directory's own name (a series' name in comparisons)
  std::string recipe_text;       // recipe.toml as written ("" when absent)
  std::string optimizer, model;  // [optim] name, [model] name ("" when unknown)
  std::string clipper = "none";  // [clip] name
  std::optional<double> clip_limit;  // [clip] max_norm of the global-norm rule
  bool text = false;                 // [data] source = "text": its loss is per token
  std::vector<MetricsRecord> records;
  std::vector<FileSize> files;
  std::vector<SensitivityPoint> sensitivity;
  std::vector<std::string> notes;  // what is missing or was left out, for the reader

  // The last record of `event`, or null.
  const MetricsRecord* last(std::string_view event) const;
};

struct ParsedMetrics {
  std::vector<MetricsRecord> records;
  std::vector<std::string> notes;
};
// The records of metrics.jsonl text. Lines that are not records are left out with a note; a
// last line without its newline is a torn write (the run was stopped while writing it).
ParsedMetrics parse_metrics(std::string_view text);

// Reads the run directory `dir`. Throws IoError naming `dir` when it is not a run directory
// (not a directory, or neither recipe.toml nor metrics.jsonl in it), ConfigError naming
// recipe.toml when that file is not readable TOML. Everything else missing is a note.
RunData read_run(const std::string& dir);

}  // namespace sculpt::report

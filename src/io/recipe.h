// Recipe: the whole description of a run, read from TOML ([data] [model] [optim] [schedule]
// [clip] [prune] [train] [output]). Each table is a config struct whose fields() list (name,
// default, range, doc) drives parsing, validation, `--set table.key=value` overrides and `sculpt
// list`.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "clip/config.h"
#include "core/fields.h"
#include "core/options.h"
#include "core/precision.h"
#include "nn/model.h"
#include "optim/config.h"
#include "prune/config.h"
#include "sched/config.h"

namespace sculpt {

// The choice fields of [data] and [train] (core/fields.h: Choice).
enum class DataSource { kFashionMnist, kIdx, kCsv, kSyntheticLinear, kSyntheticBlobs, kText };
inline constexpr Choice<DataSource> kDataSources[] = {
    {DataSource::kFashionMnist, "fashion-mnist"},
    {DataSource::kIdx, "idx"},
    {DataSource::kCsv, "csv"},
    {DataSource::kSyntheticLinear, "synthetic-linear"},
    {DataSource::kSyntheticBlobs, "synthetic-blobs"},
    {DataSource::kText, "text"}};
constexpr std::span<const Choice<DataSource>> choices_of(DataSource) { return kDataSources; }
inline bool synthetic(DataSource s) {
  return s == DataSource::kSyntheticLinear || s == DataSource::kSyntheticBlobs;
}

enum class Normalize { kStandard, kNone };
inline constexpr Choice<Normalize> kNormalizes[] = {{Normalize::kStandard, "standard"},
                                                    {Normalize::kNone, "none"}};
constexpr std::span<const Choice<Normalize>> choices_of(Normalize) { return kNormalizes; }

// What the step does with a NaN or infinite loss or gradient.
enum class NonFinite { kStop, kSkip };
inline constexpr Choice<NonFinite> kNonFinites[] = {{NonFinite::kStop, "stop"},
                                                    {NonFinite::kSkip, "skip"}};
constexpr std::span<const Choice<NonFinite>> choices_of(NonFinite) { return kNonFinites; }

struct DataConfig {
  DataSource source = DataSource::kFashionMnist;
  std::string path = "/usr/share/datasets/fashion-mnist";  // idx: directory; csv: file
  std::string test_path;                                   // csv: optional separate test file
  std::string target = "-1";    // csv: target column name or index (negative counts from the end)
  std::string header = "auto";  // csv: auto | yes | no
  std::string task = "auto";    // csv: auto | classification | binary | regression
  double val_fraction = 0.1;    // carved from the training set, never from test
  double test_fraction = 0.2;   // csv/synthetic without a test file: carved before val
  Normalize normalize = Normalize::kStandard;  // standard (train-split mean/std) | none
  int64_t limit_train = 0;  // 0: all; otherwise the first N training samples (quick runs)
  int64_t limit_test = 0;
  // synthetic generators
  int64_t samples = 2000;
  int64_t features = 8;
  double noise = 0.1;
  double separation = 4.0;  // blobs: distance between class centres in units of sigma
  // text
  std::string vocabulary = "char";  // char (Unicode code points) | byte
  int64_t steps = 64;               // tokens per window
  int64_t stride = 0;               // between window starts (0: steps)

  static const std::vector<Field<DataConfig>>& fields();
};

struct ModelConfig {
  std::string name = "mlp";  // a built-in (mlp, lenet5, seed-cnn, linear, binary-mlp) or "custom"
  nn::ModelSpec custom;      // [[model.layers]] when name = "custom" (or layers are given)

  static const std::vector<Field<ModelConfig>>& fields();
};

struct TrainConfig {
  int64_t epochs = 10;
  int64_t batch_size = 128;
  int64_t eval_batch_size = 256;
  uint64_t seed = 42;
  int64_t threads = 0;        // 0: all cores
  std::string loss = "auto";  // auto | cross-entropy | bce | mse
  NonFinite nonfinite = NonFinite::kStop;
  int64_t max_skips = 10;  // skip: stop after this many skipped steps in a row
  int64_t accumulate = 1;  // micro-batches (of batch_size) per optimizer step
  // Truncated backpropagation through time: text windows in stream order (data::Batcher::
  // use_streams), the recurrent state carried from each batch to the next.
  bool tbptt = false;
  // bf16: the products (Linear) in bfloat16 with fp32 accumulation; the rest stays fp32.
  Precision precision = Precision::kFp32;

  static const std::vector<Field<TrainConfig>>& fields();
};

struct OutputConfig {
  std::string dir = "runs";
  std::string name;               // default: the recipe file's stem
  std::string progress = "auto";  // auto (bar on a TTY) | bar | plain | none
  bool checkpoint = true;
  int64_t checkpoint_every = 0;  // steps; 0: at epoch ends only
  int64_t keep = 3;

  static const std::vector<Field<OutputConfig>>& fields();
};

struct RecipeConfig {
  std::string source;  // file it came from (for messages)
  DataConfig data;
  ModelConfig model;
  OptimConfig optim;
  ScheduleConfig schedule;
  ClipConfig clip;
  prune::PruneConfig prune;  // [prune]: pruning during training (prune/config.h)
  TrainConfig train;
  OutputConfig output;
};

// Reads and validates a recipe, then applies `overrides` ("table.key=value"). Throws
// ConfigError naming file, table.key and a hint ("did you mean ...") for unknown keys, wrong
// types and out-of-range values; IoError when the file cannot be read.
RecipeConfig load_recipe(const std::string& path, const std::vector<std::string>& overrides = {});
// The text of a recipe file (IoError when it cannot be read or is larger than a recipe can be).
std::string read_recipe_text(const std::string& path);
RecipeConfig parse_recipe(const std::string& toml_text, const std::string& source,
                          const std::vector<std::string>& overrides = {});
// The fully resolved recipe as TOML (saved in the run directory; loads back to the same
// RecipeConfig).
std::string to_toml(const RecipeConfig& r);
// Cross-field and per-field checks for a RecipeConfig built in code (parse_recipe already runs
// them).
void validate_recipe(const RecipeConfig& r);
// Every recipe key with its type, default, allowed values and meaning (for `sculpt list recipe`
// and the docs); print with format_field_rows().
std::vector<FieldRow> recipe_field_rows();

}  // namespace sculpt

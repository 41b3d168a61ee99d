// Dataset: samples held in memory as one float tensor [N, sample_shape...] with either class
// labels (classification, binary 0/1) or real-valued targets [N, k] (regression).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/shape.h"
#include "core/tensor.h"
#include "data/vocabulary.h"

namespace sculpt::data {

enum class Task { kClassification, kBinary, kRegression };

struct Dataset {
  std::string name;  // for messages: "fashion-mnist/train", "data.csv"
  Task task = Task::kClassification;
  Shape sample_shape;           // e.g. {1, 28, 28} or {n_features}
  Tensor x;                     // [N, sample_shape...]
  std::vector<int32_t> labels;  // classification/binary: N * positions labels in [0, num_classes)
  Tensor y;                     // regression: [N, num_targets]
  int64_t num_classes = 0;      // classification: classes; binary: 2
  int64_t num_targets = 0;      // regression: targets per sample
  int64_t positions = 1;        // labels per sample: the window length for next-token text

  int64_t size() const { return sample_shape.empty() ? 0 : x.size() / numel(sample_shape); }
  int64_t sample_size() const { return numel(sample_shape); }
  // Logits the model must produce: classes, 1 for binary, targets for regression.
  int64_t outputs() const {
    return task == Task::kClassification ? num_classes : task == Task::kBinary ? 1 : num_targets;
  }
};

inline const char* task_name(Task t) {
  return t == Task::kClassification ? "classification"
         : t == Task::kBinary       ? "binary"
                                    : "regression";
}

// A training/validation/test split. val may be empty (size 0).
struct Splits {
  Dataset train, val, test;
  // Standardisation applied to x of all three parts (fitted on train): x' = (x - mean) / std.
  // Identity (0, 1) when data.normalize = "none". Inference must apply the same to its input.
  float norm_mean = 0.0f;
  float norm_std = 1.0f;
  // synthetic-linear only (empty otherwise): the generating weights and bias expressed in the
  // space the model sees, i.e. after normalisation: y = x'.true_weights + true_bias + noise.
  std::vector<float> true_weights;
  float true_bias = 0.0f;
  Vocabulary vocabulary;  // text only: token ids <-> characters or bytes
};

}  // namespace sculpt::data

// Samples as a program hands them to InferenceModel: inputs in the units the training data was
// read in (IDX pixels scaled to [0, 1], CSV values as written), with their labels or targets.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace sculpt {

struct Samples {
  int64_t n = 0;
  std::vector<int64_t> sample_shape;  // e.g. {1, 28, 28}
  std::vector<float> x;               // n * numel(sample_shape)
  std::vector<int32_t> labels;        // classification and binary: n labels; regression: empty
  std::vector<float> targets;         // regression: n * targets per sample; otherwise empty
};

// An IDX image file and its label file (MNIST, Fashion-MNIST; .gz or not), validated as
// `sculpt train` reads them: IoError or DataError naming the file otherwise.
Samples read_idx(const std::string& images, const std::string& labels);

}  // namespace sculpt

// What a run's model is: its layers in order, their output shapes and parameter counts, and
// how many weights pruning has left. Returned by Run::model().
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace sculpt {

struct LayerSummary {
  std::string name;                   // fc1, conv2, ...
  std::string type;                   // linear, conv2d, relu, ... (`sculpt list layers`)
  std::vector<int64_t> output_shape;  // per sample
  int64_t params = 0;                 // parameters of this layer (weights and biases)
  int64_t nonzeros = 0;               // of those, the ones pruning left
};

struct ModelSummary {
  std::vector<LayerSummary> layers;
  std::vector<int64_t> input_shape;  // per sample
  int64_t params = 0, nonzeros = 0;
  double weight_sparsity = 0.0;  // fraction of the prunable layers' weights that are pruned
  std::string text;              // the summary `sculpt train` prints, one line per layer
};

}  // namespace sculpt

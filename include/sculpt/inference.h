// Runs a model written by `sculpt export` or Run::export_model. Linear and convolution layers
// whose weights are sparse enough run on sparse kernels, the rest on dense ones.
//
//   sculpt::InferenceModel model = sculpt::InferenceModel::load("runs/x/model.sculpt");
//   std::vector<float> logits = model.predict(images);    // n * input_size() values in
//   std::vector<int32_t> classes = model.classify(images);
//
// Inputs are in the units the training data was read in (IDX pixels scaled to [0, 1], CSV values
// as written): the model applies the training run's standardisation itself.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace sculpt {

struct InferenceOptions {
  // Kernels for linear and convolution layers: auto (sparse where the weights are sparse
  // enough to gain), dense, or sparse.
  std::string kernels = "auto";
  int64_t max_batch = 256;  // predict() runs larger inputs in chunks of this many samples
};

class InferenceModel {
 public:
  // Reads and validates the file. IoError when it cannot be read, DataError naming the file
  // for anything wrong in it, ConfigError for bad options.
  static InferenceModel load(const std::string& path, const InferenceOptions& options = {});

  // Logits [n, outputs()] of n samples [n, input_size()]. Not thread-safe (buffers are reused).
  void predict(const float* x, int64_t n, float* logits);
  // x holds n * input_size() values; ShapeError naming both sizes otherwise.
  std::vector<float> predict(const std::vector<float>& x);
  // The class per sample: argmax of the logits (binary: logit > 0). ConfigError for regression.
  std::vector<int32_t> classify(const std::vector<float>& x);

  std::vector<int64_t> input_shape() const;  // per sample
  int64_t input_size() const;
  int64_t outputs() const;
  int64_t num_params() const;   // weights and biases
  int64_t nonzeros() const;     // parameters that are not zero
  std::string summary() const;  // one line per layer: kernel and weights kept

  InferenceModel(InferenceModel&&) noexcept;
  InferenceModel& operator=(InferenceModel&&) noexcept;
  ~InferenceModel();

 private:
  struct Impl;
  explicit InferenceModel(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace sculpt

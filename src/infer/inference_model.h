// InferenceModel: runs an export file (`sculpt export`) from C++. Linear and Conv2d layers whose
// weights are sparse enough run on CSR kernels (src/sparse: SpMV at batch 1, SpMM for batches
// and im2col convolutions); the rest run on the dense kernels the trainer uses.
//
//   auto model = sculpt::InferenceModel::load("runs/x/model.sculpt");
//   std::vector<float> logits = model.predict(images);   // n * input_size() values in
//   std::vector<int32_t> classes = model.classify(images);
//
// Inputs are in the units the training data was read in (IDX pixels scaled to [0, 1], CSV values
// as written): the model applies the training run's standardisation itself.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "core/shape.h"
#include "infer/export_format.h"

namespace sculpt::infer {

struct InferenceOptions {
  // Kernels for Linear and Conv2d layers: auto (sparse when the weight density is at most
  // kAutoSparseLinear / kAutoSparseConv), dense, or sparse (every such layer on CSR kernels).
  std::string kernels = "auto";
  int64_t max_batch = 256;  // predict() runs larger inputs in chunks of this many samples
};

// Weight density at or below which "auto" picks the sparse kernels. Convolutions switch much
// earlier: their GEMMs have few rows (6 and 16 output channels in LeNet-5), where oneDNN is far
// from its peak, and the sparse im2col x SpMM path was 1.7x faster on LeNet-5's 62% and 36%
// dense convolutions (docs/benchmarks.md).
inline constexpr double kAutoSparseLinear = 0.35;
inline constexpr double kAutoSparseConv = 0.7;

// One Linear or Conv2d layer as the runtime runs it.
struct InferenceLayer {
  std::string name;      // fc1, conv2, ...
  std::string kind;      // linear | conv2d
  std::string kernel;    // dense | sparse
  int64_t params = 0;    // weight entries
  int64_t nonzeros = 0;  // weight entries that are not zero
};

// The class of each of n samples from its k logits: argmax, or logit > 0 when k == 1 (binary).
std::vector<int32_t> classes_of(const float* logits, int64_t n, int64_t k);

class InferenceModel {
 public:
  // Reads and validates the file (read_export), builds the layers and checks every tensor
  // against them. Throws IoError when the file cannot be read, DataError naming the file for
  // anything wrong in it (damage, truncation, a newer format, an architecture that does not
  // build or does not match its tensors), ConfigError for bad options.
  static InferenceModel load(const std::string& path, const InferenceOptions& options = {});
  // The same from a decoded export; `where` names it in errors.
  static InferenceModel from_export(const infer::ExportModel& m, const InferenceOptions& options,
                                    const std::string& where);

  InferenceModel(InferenceModel&&) noexcept;
  InferenceModel& operator=(InferenceModel&&) noexcept;
  ~InferenceModel();

  // Logits [n, outputs()] of n samples x [n, input_size()]. Not thread-safe (buffers are
  // reused); the kernels use the OpenMP threads in force.
  void predict(const float* x, int64_t n, float* logits);
  // x holds n * input_size() values; ShapeError naming both sizes otherwise.
  std::vector<float> predict(const std::vector<float>& x);
  // The predicted class per sample: argmax of the logits (binary: logit > 0). Regression
  // models have no classes (ConfigError).
  std::vector<int32_t> classify(const std::vector<float>& x);

  // Generation with a text model (token ids in, a recurrent layer carrying the sequence;
  // stepper.h): start() zeroes the state; feed() runs tokens one at a time, each from the state
  // the one before left, and returns the logits after the last (valid until the next call; a
  // first feed without start() starts from zero); step(t) feeds one. The logits are those
  // predict() gives at the same position of a window holding the same tokens. ConfigError when
  // the model is no text model, DataError for an id the embedding does not have.
  void start();
  std::span<const float> feed(std::span<const int32_t> tokens);
  std::span<const float> step(int32_t token);

  const infer::ExportHeader& header() const;
  const Shape& input_shape() const;
  int64_t input_size() const;
  int64_t outputs() const;
  const std::vector<InferenceLayer>& layers() const;
  int64_t num_params() const;  // every parameter (weights and biases; no buffers)
  int64_t nonzeros() const;    // parameters that are not zero
  // One line per layer: "fc1  linear  sparse  11,760 / 235,200 weights (5.0%)".
  std::string summary() const;

 private:
  struct Impl;
  explicit InferenceModel(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace sculpt::infer

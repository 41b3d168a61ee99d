// Runs a model written by `sculpt export` or Run::export_model. Linear and convolution layers
// whose weights are sparse enough run on sparse kernels, the rest on dense ones.
//
//   sculpt::InferenceModel model = sculpt::InferenceModel::load("runs/x/model.sculpt");
//   std::vector<float> logits = model.predict(images);    // n * input_size() values in
//   std::vector<int32_t> classes = model.classify(images);
//
// Inputs are in the units the training data was read in (IDX pixels scaled to [0, 1], CSV values
// as written): the model applies the training run's standardisation itself.
//
// A text model (trained on data.source = "text"; its export keeps the vocabulary) also
// continues text, as `sculpt infer --prompt` does:
//
//   std::string more = model.generate("The ", {.tokens = 200, .temperature = 0.8, .seed = 1});
//
// or step by step: start(), feed(model.encode("The ")) and step(id) return the next token's
// logits, each continuing from the state the previous token left.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <vector>

namespace sculpt {

struct InferenceOptions {
  // Kernels for linear and convolution layers: auto (sparse where the weights are sparse
  // enough to gain), dense, or sparse.
  std::string kernels = "auto";
  int64_t max_batch = 256;  // predict() runs larger inputs in chunks of this many samples
};

struct GenerateOptions {
  int64_t tokens = 200;      // to generate after the prompt, at least 1
  double temperature = 1.0;  // finite, >= 0: softmax(logits / temperature); 0 takes the argmax
  uint64_t seed = 0;         // the same seed gives the same text on every machine
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

  // Text models only (ConfigError for others). Token ids of `text`: DataError
  // naming the first character the vocabulary lacks, and its position.
  std::vector<int32_t> encode(const std::string& text) const;
  std::string decode(const std::vector<int32_t>& ids) const;  // ids in [0, vocabulary size)
  // Zeroes the recurrent state; feed() runs tokens one at a time, each from the state the one
  // before left, and returns the logits of the next token (valid until the next call; a first
  // feed without start() starts from zero); step(id) feeds one. DataError for an id out of range.
  void start();
  std::span<const float> feed(const std::vector<int32_t>& ids);
  std::span<const float> step(int32_t id);
  // The prompt fed from a zero state, then options.tokens tokens drawn and fed back; on_text
  // (may be empty) receives each token's text as it comes. Returns the generated text, without
  // the prompt. ConfigError for an empty prompt or options out of range.
  std::string generate(const std::string& prompt, const GenerateOptions& options = {},
                       const std::function<void(const std::string&)>& on_text = {});

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

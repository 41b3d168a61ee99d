// Model: a graph of layers built from a ModelSpec (a built-in name or a layer list in the
// recipe), listed in order: each layer reads the previous one unless it names its inputs
// (`inputs`: earlier layers' names, or "input" for the model's input), so a plain list is a
// chain and `add` / `concat` join branches. The last layer's output is the logits. It owns the
// activation buffers, sized once by reserve(max_batch).
#pragma once

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "core/param_store.h"
#include "nn/layer.h"

namespace sculpt::nn {

// One layer as the recipe writes it: [[model.layers]] type = "linear", out = 300.
struct LayerSpec {
  std::string type;                      // registry key: "linear", "conv2d", "relu", ...
  std::string name;                      // empty: derived ("fc1", "conv2", "relu3", ...)
  std::map<std::string, double> args;    // numeric arguments: out, kernel, stride, padding, p
  std::vector<std::string> inputs = {};  // empty: the previous layer (the model input first)
};

// The name `inputs` uses for the model's input.
inline constexpr const char* kModelInput = "input";

struct ModelSpec {
  std::vector<LayerSpec> layers;
};

// Built-in models by name: mlp, lenet5, seed-cnn, linear, binary-mlp, resnet-small. `outputs` is
// the number of logits (classes, 1 for binary, targets for regression). Throws ConfigError for an
// unknown name, with a "did you mean" hint.
ModelSpec builtin_model(const std::string& name, int64_t outputs);
std::vector<std::string> builtin_model_names();

class Model {
 public:
  // Instantiates every layer and chains shapes from the per-sample input shape. Throws
  // ShapeError naming the first layer whose input does not fit or whose output is more than
  // kMaxTensorNumel entries per sample, ConfigError for bad specs. Allocates no activations.
  static Model build(const ModelSpec& spec, const Shape& input);
  // The same from layers already made: a library user's own Layer subclasses among them (its
  // traits() tell the pruner and the runtime what it is). `inputs[i]` lists layer i's inputs
  // as indices of earlier layers, -1 for the model input; empty: a chain.
  static Model build(std::vector<std::unique_ptr<Layer>> layers, const Shape& input,
                     std::vector<std::vector<int>> inputs = {});

  void declare(ParamStore& ps);
  void init(ParamStore& ps, Rng& rng);
  // Sizes the activations for batches of up to max_batch samples. ConfigError, before anything
  // is allocated, when that would take more than kMaxActivationFloats (reserve_floats).
  void reserve(int64_t max_batch);
  // What reserve(max_batch) allocates with `threads` threads, in floats: every layer's output,
  // the two gradient buffers and the layers' scratch (saturating at INT64_MAX).
  int64_t reserve_floats(int64_t max_batch, int threads) const;
  int64_t max_batch() const { return max_batch_; }

  // Returns a pointer to the logits [n, outputs], valid until the next forward.
  const float* forward(ParamStore& ps, const float* x, int64_t n, const Pass& pass);
  // Backpropagates d(loss)/d(logits) through the stack (params' grads are accumulated). Stops
  // at the first layer that declared parameters: layers below it get no backward call.
  void backward(ParamStore& ps, const float* x, const float* dlogits, int64_t n);

  const Shape& input_shape() const { return input_; }
  const Shape& output_shape() const { return layers_.back()->out_shape(); }
  int64_t outputs() const { return numel(output_shape()); }
  size_t size() const { return layers_.size(); }
  Layer& layer(size_t i) { return *layers_[i]; }
  const Layer& layer(size_t i) const { return *layers_[i]; }
  // Layer i's inputs (indices of earlier layers; -1: the model input) and how many layers read
  // its output.
  const std::vector<int>& inputs_of(size_t i) const { return inputs_[i]; }
  int consumers_of(size_t i) const { return consumers_[i]; }
  // Layer i's output goes to layer i + 1 alone, which reads nothing else: a link of a chain.
  bool feeds_next_only(size_t i) const {
    return i + 1 < layers_.size() && consumers_[i] == 1 &&
           inputs_[i + 1] == std::vector<int>{int(i)};
  }
  // Runs every layer's products at `p` (Layer::set_precision) and returns the names of the
  // layers with weights that keep fp32 (no such path). Before reserve().
  std::vector<std::string> set_precision(Precision p);
  // Every layer reads the one before it and nothing else.
  bool is_chain() const { return chain_; }
  // Layer i is applied by a layer before it (Layer::fuse_relu, fuse_maxpool): forward and
  // backward skip it. Decided by reserve(), where layer i reads its predecessor alone.
  bool fused(size_t i) const { return i < fused_.size() && fused_[i]; }
  // Multi-line summary: one line per layer with its output shape and parameter count, and its
  // inputs where it does not simply read the previous layer.
  std::string summary(const ParamStore& ps) const;

 private:
  Shape input_;
  std::vector<std::unique_ptr<Layer>> layers_;
  // The backward of a graph (not a chain): dL/d(output of layer i), summed over its readers.
  void backward_graph(ParamStore& ps, const float* x, const float* dlogits, int64_t n, size_t stop);

  std::vector<std::vector<int>> inputs_;  // per layer; -1: the model input
  std::vector<int> consumers_;            // per layer: how many layers read its output
  std::vector<MergeLayer*> merges_;       // per layer: itself if it is a merge, else nullptr
  // Graph backward, per layer: whether its output's gradient buffer has been written yet;
  // and a merge's input gradients with, for each, whether it writes (else adds).
  std::vector<char> written_;
  std::vector<float*> merge_dxs_;
  std::vector<char> merge_assign_;
  // Asks each layer followed by a ReLU that reads it alone to apply that ReLU, and then a
  // max-pool that reads the ReLU alone (chains and graphs).
  void fuse_layers();
  // The buffer of layer i's group (a layer and those it applies): its last layer's output.
  float* act(size_t i) { return acts_[end_[i]].data(); }
  // Layer j's output (j = -1: the model input x), looking through views in a chain.
  const float* output(int j, const float* x) {
    while (j >= 0 && view_[size_t(j)]) --j;
    return j < 0 ? x : act(size_t(j));
  }

  bool chain_ = true;
  std::vector<char> fused_;                  // per layer: applied by a layer before it
  std::vector<size_t> end_;                  // per layer: the last layer of its group
  std::vector<char> view_;                   // per layer: a view in a chain (no buffer, no pass)
  std::vector<AlignedVector<float>> acts_;   // acts_[i]: output of layer i, [max_batch, out_i]
  AlignedVector<float> grad_a_, grad_b_;     // chain: ping-pong buffers for dL/d(activation)
  std::vector<AlignedVector<float>> grads_;  // graph: grads_[i] = dL/d(acts_[i])
  AlignedVector<float> scratch_;             // graph: one layer's dx before it is added
  int64_t max_batch_ = 0;
  size_t first_trainable_ = 0;  // index of the first layer with parameters (set by declare())
};

}  // namespace sculpt::nn

// Layer: the runtime-polymorphic unit of a sequential model. Explicit forward/backward on raw
// buffers (as llm.c); the batch size travels separately from the per-sample shapes.
//
// Legend: x is the input [n, in...], y the output [n, out...], dy = dL/dy, dx = dL/dx.
// Contract, in call order:
//   bind(in)         per-sample input shape -> per-sample output shape; throws ShapeError naming
//                    the layer when the input does not fit. Called once.
//   declare(store)   adds parameters named "<layer name>.<param>" (e.g. "fc1.weight").
//   init(store, rng) PyTorch's default initialisation (Kaiming-uniform, a = sqrt(5)).
//   reserve(n)       sizes scratch for batches of up to n samples; the step never allocates.
//                    scratch_floats(n, threads) says how much, in floats, before it does.
//   forward          y = f(x). In Mode::kTrain a layer may keep what backward needs.
//   backward         ADDS parameter gradients into the store's grad arena (+=) and WRITES dx
//                    (dx may be nullptr for the first layer: then skip that work). x and y are
//                    the buffers of the preceding forward call.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/limits.h"
#include "core/param_store.h"
#include "core/precision.h"
#include "core/rng.h"
#include "core/shape.h"
#include "kernels/im2col.h"
#include "kernels/pooling.h"

namespace sculpt::nn {

enum class Mode { kTrain, kEval };

// What a forward pass needs besides its buffers.
struct Pass {
  Mode mode = Mode::kEval;
  uint64_t key = 0;  // per-step random key (dropout uses counter_uniform(key ^ salt, i))
};

// What the pruner, the surgery and the inference runtime know of a layer: they read these, never
// its kind string or its class. A new layer states its own in traits(); the defaults are the
// cautious ones, under which the pruner leaves the layer's neighbours unpruned (with a note)
// instead of failing, and the runtime runs the layer as it is.
struct LayerTraits {
  // The output keeps the input's unit (channel) axis in order, and output channel c depends on
  // input channel c alone, so structured pruning can look through the layer to the next
  // parametric one: activations, pooling, flatten, dropout, BatchNorm; and `add`, whose inputs'
  // channels are thereby tied together.
  bool keeps_channels = false;
  // The output's channels are the inputs' channels one after another (concat).
  bool stacks_channels = false;
  // ParamStore entries with one value per channel (BatchNorm's scale, shift and running
  // statistics): structured pruning masks and removes entry c with channel c.
  std::vector<size_t> channel_params = {};
  // Each output value depends on the input value at the same index only: any memory layout.
  bool elementwise = false;
  // Evaluation changes no bytes (flatten, dropout): the runtime skips the layer.
  bool eval_identity = false;
  // Training changes no bytes either (flatten): a chain hands the input buffer on as the
  // output and skips the layer both ways.
  bool view = false;
  // y = max(x, 0): the sparse kernels fuse it into their store.
  bool relu = false;
  // A layer with prunable units, y = W x + b over its flattened input (Linear: rows) or a
  // convolution with `conv` (Conv2d: filters): the ParamStore entries of its weight
  // [units, ...] and bias, and how many units. The pruner and the runtime rely on that form.
  std::optional<size_t> weight = std::nullopt, bias = std::nullopt;
  int64_t units = 0;
  const kernels::ConvGeometry* conv = nullptr;     // a convolution's geometry (after bind)
  const kernels::PoolGeometry* maxpool = nullptr;  // a max-pool's window (after bind)
  // A recurrent layer: `gates` blocks of rows per unit (unit u owns rows u + k * units of the
  // weight, k < gates), and a second weight [gates * units, units] (with its bias) over the
  // previous step's output, which reads unit u through its column u.
  int64_t gates = 1;
  std::optional<size_t> recurrent_weight = std::nullopt, recurrent_bias = std::nullopt;
  // The input and output are sequences [steps, features] with the units on the last axis
  // (Embedding, LSTM, GRU, a Linear over steps); the runtime runs such a layer as it is.
  bool sequence = false;
  // The layer's spec argument holding its unit count, which surgery rewrites.
  std::string_view units_arg = "out";
  // > 0: the input holds token ids, whole numbers in [0, token_ids) (Embedding); the data are
  // not standardised and no gradient flows into them.
  int64_t token_ids = 0;
};

class Layer {
 public:
  explicit Layer(std::string name) : name_(std::move(name)) {}
  virtual ~Layer() = default;
  Layer(const Layer&) = delete;
  Layer& operator=(const Layer&) = delete;

  const std::string& name() const { return name_; }
  virtual std::string_view kind() const = 0;
  virtual LayerTraits traits() const { return {}; }
  // One line for summaries: "fc1 Linear(784 -> 300)".
  virtual std::string describe() const = 0;

  virtual Shape bind(const Shape& in) = 0;
  virtual void declare(ParamStore&) {}
  virtual void init(ParamStore&, Rng&) {}
  virtual void reserve(int64_t /*max_batch*/) {}
  // What reserve(max_batch) allocates with `threads` OpenMP threads, in floats (4-byte values),
  // saturating at INT64_MAX: Model::reserve checks it against kMaxActivationFloats first.
  virtual int64_t scratch_floats(int64_t /*max_batch*/, int /*threads*/) const { return 0; }
  virtual void forward(ParamStore& ps, const float* x, float* y, int64_t n, const Pass& pass) = 0;
  virtual void backward(ParamStore& ps, const float* x, const float* y, const float* dy, float* dx,
                        int64_t n) = 0;
  // A ReLU that reads this layer alone, applied by this layer: with `on`, forward writes
  // max(y, 0) and backward takes the gradient of that output (masking it by y > 0 itself), so
  // the model skips the ReLU layer and its pass over the activations. Called by Model::reserve
  // before reserve(); returns whether the layer does it (by default it does not).
  virtual bool fuse_relu(bool /*on*/) { return false; }
  // Then a max-pool that reads that ReLU alone, applied by this layer too (`pool`: its window;
  // null: none): forward writes the pooled output, backward takes its gradient with the pooled
  // output as y. Called after fuse_relu(true), and with null whenever there is none; returns
  // whether the layer does it.
  virtual bool fuse_maxpool(const kernels::PoolGeometry* /*pool*/) { return false; }
  // Runs its products at precision `p` (bf16: operands rounded to bfloat16, fp32 accumulation;
  // the weights themselves stay fp32). Called before reserve(); returns whether it does. A
  // layer without weights has no products and says yes; one with weights and no bf16 path
  // says no and keeps fp32.
  virtual bool set_precision(Precision p) { return p == Precision::kFp32 || !traits().weight; }

  const Shape& in_shape() const { return in_; }
  const Shape& out_shape() const { return out_; }

 protected:
  Shape in_, out_;  // set by bind()

 private:
  std::string name_;
};

// A layer of several inputs (add, concat). The model binds, runs and backpropagates it through
// the *_inputs calls; the single-input ones throw. backward_inputs writes the gradient of input k
// into dxs[k] where assign[k], else ADDS to it (another reader wrote it first); nullptr: not
// wanted. Inputs go in order, so two inputs may share one gradient buffer.
class MergeLayer : public Layer {
 public:
  using Layer::Layer;
  virtual Shape bind_inputs(const std::vector<Shape>& in) = 0;
  virtual void forward_inputs(const std::vector<const float*>& xs, float* y, int64_t n) = 0;
  virtual void backward_inputs(const float* dy, const std::vector<float*>& dxs,
                               const std::vector<char>& assign, int64_t n) = 0;

  Shape bind(const Shape& in) final;
  void forward(ParamStore&, const float*, float*, int64_t, const Pass&) final;
  void backward(ParamStore&, const float*, const float*, const float*, float*, int64_t) final;
};

}  // namespace sculpt::nn

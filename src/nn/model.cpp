// Model: builds the layer stack from a spec, owns the activations and the two gradient
// buffers (ping-pong), and chains forward and backward.
#include "nn/model.h"

#include <fmt/format.h>
#include <omp.h>

#include <algorithm>

#include "core/error.h"
#include "core/limits.h"
#include "nn/registry.h"

namespace sculpt::nn {

namespace {

std::string default_name(const std::string& type, int k) {
  if (type == "linear") return fmt::format("fc{}", k);
  if (type == "conv2d") return fmt::format("conv{}", k);
  return fmt::format("{}{}", type, k);
}

std::string with_commas(int64_t v) {
  std::string s = std::to_string(v), out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (i && (s.size() - i) % 3 == 0) out += ',';
    out += s[i];
  }
  return out;
}

}  // namespace

Model Model::build(const ModelSpec& spec, const Shape& input) {
  SCULPT_CHECK(!spec.layers.empty(), ConfigError, "the model has no layers", "model",
               "name a built-in model or list [[model.layers]]");
  std::vector<std::unique_ptr<Layer>> layers;
  std::map<std::string, int> counts;
  for (const auto& ls : spec.layers) {
    LayerSpec named = ls;
    const int k = ++counts[ls.type];
    if (named.name.empty()) named.name = default_name(ls.type, k);
    layers.push_back(make_layer(named));
  }
  return build(std::move(layers), input);
}

Model Model::build(std::vector<std::unique_ptr<Layer>> layers, const Shape& input) {
  SCULPT_CHECK(!layers.empty(), ConfigError, "the model has no layers", "model",
               "give it at least one layer");
  SCULPT_CHECK(!input.empty() && numel(input) > 0, ShapeError,
               fmt::format("the model input shape {} is empty", to_string(input)));
  Model m;
  m.input_ = input;
  Shape shape = input;
  for (auto& layer : layers) {
    shape = layer->bind(shape);
    SCULPT_CHECK(
        checked_numel(shape) > 0, ShapeError,
        fmt::format("layer '{}' outputs {} per sample: {}", layer->name(), to_string(shape),
                    checked_numel(shape) == 0
                        ? "no values"
                        : std::string("more than the limit of ") + kMaxTensorText),
        "model", "make the layer smaller (out, kernel, padding)");
    m.layers_.push_back(std::move(layer));
  }
  return m;
}

void Model::declare(ParamStore& ps) {
  // Backward can stop at the first layer that owns parameters: nothing below it needs a
  // gradient (for the MLP this skips fc1's dx gemm, a quarter of the step's FLOPs).
  first_trainable_ = layers_.size();
  for (size_t i = 0; i < layers_.size(); ++i) {
    const size_t before = ps.count();
    layers_[i]->declare(ps);
    if (ps.count() > before && first_trainable_ == layers_.size()) first_trainable_ = i;
  }
}

void Model::init(ParamStore& ps, Rng& rng) {
  for (auto& l : layers_) l->init(ps, rng);
}

int64_t Model::reserve_floats(int64_t max_batch, int threads) const {
  int64_t widest = numel(input_), total = 0;
  for (const auto& l : layers_) {
    const int64_t out = numel(l->out_shape());
    widest = std::max(widest, out);
    total = add_sat(total, add_sat(mul_sat(max_batch, out), l->scratch_floats(max_batch, threads)));
  }
  return add_sat(total, mul_sat(2, mul_sat(max_batch, widest)));
}

void Model::reserve(int64_t max_batch) {
  SCULPT_CHECK(max_batch >= 1, ConfigError,
               fmt::format("batch size must be at least 1, got {}", max_batch));
  const int64_t floats = reserve_floats(max_batch, omp_get_max_threads());
  SCULPT_CHECK(floats <= kMaxActivationFloats, ConfigError,
               fmt::format("a batch of {} samples needs {} of activations for this model, more "
                           "than the limit of {}",
                           max_batch, human_bytes_binary(4.0 * double(floats)), kMaxActivationText),
               "model",
               "use a smaller batch (train.batch_size, train.eval_batch_size, --batch) "
               "or smaller layers");
  max_batch_ = max_batch;
  acts_.resize(layers_.size());
  int64_t widest = numel(input_);
  for (size_t i = 0; i < layers_.size(); ++i) {
    const int64_t out = numel(layers_[i]->out_shape());
    acts_[i].assign(static_cast<size_t>(max_batch * out), 0.0f);
    widest = std::max(widest, out);
    layers_[i]->reserve(max_batch);
  }
  grad_a_.assign(static_cast<size_t>(max_batch * widest), 0.0f);
  grad_b_.assign(static_cast<size_t>(max_batch * widest), 0.0f);
}

const float* Model::forward(ParamStore& ps, const float* x, int64_t n, const Pass& pass) {
  SCULPT_CHECK(n >= 1 && n <= max_batch_, ShapeError,
               fmt::format("batch of {} samples but the model reserved {}", n, max_batch_), "",
               "call reserve() with the largest batch size");
  const float* in = x;
  for (size_t i = 0; i < layers_.size(); ++i) {
    layers_[i]->forward(ps, in, acts_[i].data(), n, pass);
    in = acts_[i].data();
  }
  return in;
}

void Model::backward(ParamStore& ps, const float* x, const float* dlogits, int64_t n) {
  SCULPT_CHECK(n >= 1 && n <= max_batch_, ShapeError,
               fmt::format("batch of {} samples but the model reserved {}", n, max_batch_));
  const float* dy = dlogits;
  float* bufs[2] = {grad_a_.data(), grad_b_.data()};
  int next = 0;
  // Layers below the first one with parameters need no gradient (see declare()).
  const size_t stop = std::min(first_trainable_, layers_.size() - 1);
  for (size_t i = layers_.size(); i-- > stop;) {
    const float* xin = i == 0 ? x : acts_[i - 1].data();
    float* dx = i == stop ? nullptr : bufs[next];
    layers_[i]->backward(ps, xin, acts_[i].data(), dy, dx, n);
    dy = dx;
    next ^= 1;
  }
}

std::string Model::summary(const ParamStore& ps) const {
  std::string out = fmt::format("input {}\n", to_string(input_));
  int64_t total = 0;
  for (const auto& l : layers_) {
    int64_t params = 0;
    for (const auto& e : ps.entries())
      if (e.flags.trainable && e.name.rfind(l->name() + ".", 0) == 0) params += e.size;
    total += params;
    out += fmt::format("  {:<48} out {:<16} params {}\n", l->describe(), to_string(l->out_shape()),
                       with_commas(params));
  }
  out += fmt::format("total parameters: {}\n", with_commas(total));
  return out;
}

}  // namespace sculpt::nn

// Model: builds the layer stack from a spec, owns the activations and the two gradient
// buffers (ping-pong), and chains forward and backward.
#include "nn/model.h"

#include <fmt/format.h>
#include <omp.h>

#include <algorithm>
#include <utility>

#include "core/error.h"
#include "core/limits.h"
#include "core/parallel.h"
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

namespace {

// Layer i's inputs as indices: its named inputs looked up among the layers before it, or the
// previous layer. ConfigError naming the layer for an unknown name or one that is not earlier.
std::vector<int> resolve_inputs(const std::vector<LayerSpec>& layers, size_t i) {
  const LayerSpec& l = layers[i];
  if (l.inputs.empty()) return {static_cast<int>(i) - 1};
  std::vector<int> out;
  for (const std::string& want : l.inputs) {
    if (want == kModelInput) {
      out.push_back(-1);
      continue;
    }
    const auto it = std::find_if(layers.begin(), layers.end(),
                                 [&](const LayerSpec& o) { return o.name == want; });
    SCULPT_CHECK(it != layers.end(), ConfigError,
                 fmt::format("layer '{}' takes input '{}', which no layer is named", l.name, want),
                 "model.layers", fmt::format("inputs name earlier layers or \"{}\"", kModelInput));
    const auto at = static_cast<size_t>(it - layers.begin());
    SCULPT_CHECK(at < i, ConfigError,
                 fmt::format("layer '{}' takes input '{}', which comes {} it", l.name, want,
                             at == i ? "from itself: a cycle" : "after"),
                 "model.layers",
                 "list the layers in the order they run: every input before the layers reading it "
                 "(a cycle cannot be ordered)");
    out.push_back(static_cast<int>(at));
  }
  return out;
}

}  // namespace

Model Model::build(const ModelSpec& spec, const Shape& input) {
  SCULPT_CHECK(!spec.layers.empty(), ConfigError, "the model has no layers", "model",
               "name a built-in model or list [[model.layers]]");
  std::vector<LayerSpec> named = spec.layers;
  std::map<std::string, int> counts;
  for (LayerSpec& l : named) {
    const int k = ++counts[l.type];
    if (l.name.empty()) l.name = default_name(l.type, k);
    SCULPT_CHECK(
        l.name != kModelInput, ConfigError,
        fmt::format("a layer is named '{}', the name inputs use for the model input", kModelInput),
        "model.layers", "rename it");
  }
  std::vector<std::unique_ptr<Layer>> layers;
  std::vector<std::vector<int>> inputs;
  for (size_t i = 0; i < named.size(); ++i) {
    layers.push_back(make_layer(named[i]));
    inputs.push_back(resolve_inputs(named, i));
  }
  return build(std::move(layers), input, std::move(inputs));
}

Model Model::build(std::vector<std::unique_ptr<Layer>> layers, const Shape& input,
                   std::vector<std::vector<int>> inputs) {
  SCULPT_CHECK(!layers.empty(), ConfigError, "the model has no layers", "model",
               "give it at least one layer");
  SCULPT_CHECK(!input.empty() && numel(input) > 0, ShapeError,
               fmt::format("the model input shape {} is empty", to_string(input)));
  if (inputs.empty())
    for (size_t i = 0; i < layers.size(); ++i) inputs.push_back({static_cast<int>(i) - 1});
  SCULPT_CHECK(inputs.size() == layers.size(), ConfigError, "one input list per layer is needed");
  Model m;
  m.input_ = input;
  m.consumers_.assign(layers.size(), 0);
  for (size_t i = 0; i < layers.size(); ++i) {
    Layer& layer = *layers[i];
    std::vector<Shape> shapes;
    for (const int j : inputs[i]) {
      SCULPT_CHECK(
          j >= -1 && j < static_cast<int>(i), ConfigError,
          fmt::format("layer '{}' reads layer {}, which does not come before it", layer.name(), j));
      shapes.push_back(j < 0 ? input : m.layers_[size_t(j)]->out_shape());
      if (j >= 0) ++m.consumers_[size_t(j)];
    }
    auto* merge = dynamic_cast<MergeLayer*>(&layer);
    SCULPT_CHECK(merge || shapes.size() == 1, ConfigError,
                 fmt::format("layer '{}' ({}) takes one input, not {}", layer.name(), layer.kind(),
                             shapes.size()),
                 "model.layers", "join branches with an add or concat layer first");
    const Shape shape = merge ? merge->bind_inputs(shapes) : layer.bind(shapes[0]);
    SCULPT_CHECK(checked_numel(shape) > 0, ShapeError,
                 fmt::format("layer '{}' outputs {} per sample: {}", layer.name(), to_string(shape),
                             checked_numel(shape) == 0
                                 ? "no values"
                                 : std::string("more than the limit of ") + kMaxTensorText),
                 "model", "make the layer smaller (out, kernel, padding)");
    m.chain_ = m.chain_ && inputs[i] == std::vector<int>{static_cast<int>(i) - 1};
    m.merges_.push_back(merge);
    m.layers_.push_back(std::move(layers[i]));
  }
  for (size_t i = 0; i + 1 < m.layers_.size(); ++i)
    SCULPT_CHECK(m.consumers_[i] > 0, ConfigError,
                 fmt::format("the output of layer '{}' is read by no layer", m.layers_[i]->name()),
                 "model.layers", "use it as an input of a later layer, or remove it");
  m.written_.assign(m.layers_.size(), 0);
  m.inputs_ = std::move(inputs);
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
  // A chain: two ping-pong gradient buffers. A graph: one per layer and a scratch.
  if (chain_) return add_sat(total, mul_sat(2, mul_sat(max_batch, widest)));
  for (const auto& l : layers_) total = add_sat(total, mul_sat(max_batch, numel(l->out_shape())));
  return add_sat(total, mul_sat(max_batch, widest));
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
  fuse_layers();
  acts_.resize(layers_.size());
  int64_t widest = numel(input_);
  for (size_t i = 0; i < layers_.size(); ++i) {
    const int64_t out = numel(layers_[i]->out_shape());
    acts_[i].assign(end_[i] != i || view_[i] ? 0 : static_cast<size_t>(max_batch * out), 0.0f);
    widest = std::max(widest, out);
    layers_[i]->reserve(max_batch);
  }
  if (chain_) {
    grad_a_.assign(static_cast<size_t>(max_batch * widest), 0.0f);
    grad_b_.assign(static_cast<size_t>(max_batch * widest), 0.0f);
    return;
  }
  grads_.resize(layers_.size());
  for (size_t i = 0; i < layers_.size(); ++i) grads_[i].assign(acts_[i].size(), 0.0f);
  scratch_.assign(static_cast<size_t>(max_batch * widest), 0.0f);
}

std::vector<std::string> Model::set_precision(Precision p) {
  std::vector<std::string> fp32;
  for (const auto& l : layers_)
    if (!l->set_precision(p)) fp32.push_back(l->name());
  return fp32;
}

void Model::fuse_layers() {
  const size_t size = layers_.size();
  fused_.assign(size, 0);
  view_.assign(size, 0);
  for (size_t i = 0; i < size; ++i) view_[i] = chain_ && layers_[i]->traits().view;
  end_.resize(size);
  for (size_t i = 0; i < size; ++i) end_[i] = i;
  for (size_t i = 0; i < size; ++i) {
    Layer& l = *layers_[i];
    // A ReLU, then a max-pool, each reading the layer before it alone.
    const auto reads_alone = [&](size_t j) { return j < size && feeds_next_only(j - 1); };
    const bool relu = reads_alone(i + 1) && layers_[i + 1]->traits().relu;
    if (!(l.fuse_relu(relu) && relu)) {
      l.fuse_maxpool(nullptr);
      continue;
    }
    fused_[i + 1] = 1;
    const kernels::PoolGeometry* pool =
        reads_alone(i + 2) ? layers_[i + 2]->traits().maxpool : nullptr;
    size_t last = i + 1;
    if (l.fuse_maxpool(pool) && pool) fused_[last = i + 2] = 1;
    for (size_t j = i; j <= last; ++j) end_[j] = last;
    i = last;
  }
}

const float* Model::forward(ParamStore& ps, const float* x, int64_t n, const Pass& pass) {
  SCULPT_CHECK(n >= 1 && n <= max_batch_, ShapeError,
               fmt::format("batch of {} samples but the model reserved {}", n, max_batch_), "",
               "call reserve() with the largest batch size");
  std::vector<const float*> xs;
  for (size_t i = 0; i < layers_.size(); ++i) {
    if (fused(i) || view_[i]) continue;  // its predecessor applied it; or it changes nothing
    if (MergeLayer* merge = merges_[i]) {
      xs.clear();
      for (const int j : inputs_[i]) xs.push_back(output(j, x));
      merge->forward_inputs(xs, acts_[i].data(), n);
    } else {
      layers_[i]->forward(ps, output(inputs_[i][0], x), act(i), n, pass);
    }
  }
  return output(static_cast<int>(layers_.size()) - 1, x);
}

void Model::backward(ParamStore& ps, const float* x, const float* dlogits, int64_t n) {
  SCULPT_CHECK(n >= 1 && n <= max_batch_, ShapeError,
               fmt::format("batch of {} samples but the model reserved {}", n, max_batch_));
  // Layers below the first one with parameters need no gradient (see declare()).
  const size_t stop = std::min(first_trainable_, layers_.size() - 1);
  if (!chain_) return backward_graph(ps, x, dlogits, n, stop);
  const float* dy = dlogits;
  float* bufs[2] = {grad_a_.data(), grad_b_.data()};
  int next = 0;
  for (size_t i = layers_.size(); i-- > stop;) {
    if (fused(i) || view_[i]) continue;  // dy passes on: to the layer that masks it, or as is
    const float* xin = output(static_cast<int>(i) - 1, x);
    float* dx = i == stop ? nullptr : bufs[next];
    layers_[i]->backward(ps, xin, act(i), dy, dx, n);
    dy = dx;
    next ^= 1;
  }
}

void Model::backward_graph(ParamStore& ps, const float* x, const float* dlogits, int64_t n,
                           size_t stop) {
  const size_t last = layers_.size() - 1;
  // The first gradient to reach a buffer (the readers run from the last) writes it; the
  // others add to it. No buffer needs zeroing first.
  std::fill(written_.begin(), written_.end(), 0);
  const auto target = [&](int j) -> float* {  // nowhere below `stop` (nothing there trains)
    return j >= static_cast<int>(stop) ? grads_[size_t(j)].data() : nullptr;
  };
  const auto first = [&](int j) -> bool {  // and marks j written
    return j >= 0 && !std::exchange(written_[size_t(j)], char{1});
  };
  for (size_t i = last + 1; i-- > stop;) {
    if (fused(i)) continue;  // dY passes to the layer that applies it
    // A layer and those it applies: the group's output and its gradient are the last one's.
    const size_t out = end_[i];
    const float* dy = out == last ? dlogits : grads_[out].data();
    if (MergeLayer* merge = merges_[i]) {
      merge_dxs_.clear();
      merge_assign_.clear();
      for (const int j : inputs_[i]) {
        merge_dxs_.push_back(target(j));
        merge_assign_.push_back(first(j));
      }
      merge->backward_inputs(dy, merge_dxs_, merge_assign_, n);
      continue;
    }
    const int j = inputs_[i][0];
    float* dst = target(j);
    float* dx = dst && !first(j) ? scratch_.data() : dst;  // the scratch, when adding
    layers_[i]->backward(ps, j < 0 ? x : acts_[size_t(j)].data(), acts_[out].data(), dy, dx, n);
    if (dx != dst) {
      const int64_t size = n * numel(layers_[size_t(j)]->out_shape());
      for_range(size, [=](int64_t b, int64_t e) {
        for (int64_t k = b; k < e; ++k) dst[k] += dx[k];
      });
    }
  }
}

std::string Model::summary(const ParamStore& ps) const {
  std::string out = fmt::format("input {}\n", to_string(input_));
  int64_t total = 0;
  for (size_t i = 0; i < layers_.size(); ++i) {
    const Layer& l = *layers_[i];
    int64_t params = 0;
    for (const auto& e : ps.entries())
      if (e.flags.trainable && e.name.rfind(l.name() + ".", 0) == 0) params += e.size;
    total += params;
    out += fmt::format("  {:<48} out {:<16} params {}", l.describe(), to_string(l.out_shape()),
                       with_commas(params));
    // A graph's joins and skips: "<- a, b" where a layer does not read the one before it.
    if (inputs_[i] != std::vector<int>{static_cast<int>(i) - 1}) {
      std::vector<std::string> names;
      for (const int j : inputs_[i])
        names.push_back(j < 0 ? kModelInput : layers_[size_t(j)]->name());
      out += fmt::format("  <- {}", fmt::join(names, ", "));
    }
    out += "\n";
  }
  out += fmt::format("total parameters: {}\n", with_commas(total));
  return out;
}

}  // namespace sculpt::nn

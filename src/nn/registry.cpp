// The layer table. Adding a layer: write its file pair, add one row here (with an example so
// the conformance suite checks its gradients), done.
#include "nn/registry.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

#include "core/error.h"
#include "core/registry.h"
#include "core/suggest.h"
#include "nn/layers/activations.h"
#include "nn/layers/batch_norm.h"
#include "nn/layers/conv2d.h"
#include "nn/layers/dropout.h"
#include "nn/layers/embedding.h"
#include "nn/layers/flatten.h"
#include "nn/layers/gru.h"
#include "nn/layers/layer_norm.h"
#include "nn/layers/linear.h"
#include "nn/layers/lstm.h"
#include "nn/layers/merge.h"
#include "nn/layers/pool2d.h"

namespace sculpt::nn {

namespace {

// A positive integer argument (or >= 0 when allow_zero), checked where it is read.
int64_t int_arg(const LayerArgs& a, const char* key, const std::string& layer, bool allow_zero) {
  const double v = a.at(key);
  const bool ok =
      std::isfinite(v) && v == std::floor(v) && (allow_zero ? v >= 0 : v >= 1) && v < 1e9;
  SCULPT_CHECK(ok, ConfigError,
               fmt::format("layer '{}': argument '{}' must be {} integer, got {}", layer, key,
                           allow_zero ? "a non-negative" : "a positive", v));
  return static_cast<int64_t>(v);
}

// A positive integer argument whose 0 the trainer replaces with the data's size before the
// model is built (train::resolve_for_data); a 0 that reaches the layer had no data to take it
// from.
int64_t resolved_arg(const LayerArgs& a, const char* key, const std::string& layer,
                     const char* where) {
  const int64_t v = int_arg(a, key, layer, true);
  SCULPT_CHECK(v > 0, ConfigError,
               fmt::format("layer '{}': {} = 0 takes the size from the data, which only {} of a "
                           "recipe's model can do",
                           layer, key, where),
               "", fmt::format("give {} a positive value", key));
  return v;
}

template <class Pool>
std::unique_ptr<Layer> make_pool(const std::string& name, const LayerArgs& a) {
  const int64_t k = int_arg(a, "kernel", name, false);
  // stride = 0 (the default) means "same as the kernel", as in PyTorch.
  int64_t s = int_arg(a, "stride", name, true);
  if (s == 0) s = k;
  const int64_t p = int_arg(a, "padding", name, true);
  return std::make_unique<Pool>(name, k, s, p);
}

// The factory of a layer that takes no arguments. (A merge layer's example input is the shape
// of each of its two inputs.)
template <class L>
std::unique_ptr<Layer> make_named(const std::string& name, const LayerArgs&) {
  return std::make_unique<L>(name);
}

template <int Dims>
std::unique_ptr<Layer> make_batch_norm(const std::string& name, const LayerArgs& a) {
  const double momentum = a.at("momentum"), eps = a.at("eps");
  SCULPT_CHECK(
      momentum >= 0.0 && momentum <= 1.0, ConfigError,
      fmt::format("layer '{}': argument 'momentum' must be in [0, 1], got {}", name, momentum));
  SCULPT_CHECK(eps > 0.0 && std::isfinite(eps), ConfigError,
               fmt::format("layer '{}': argument 'eps' must be > 0, got {}", name, eps));
  return std::make_unique<BatchNorm>(name, Dims, momentum, eps);
}

std::vector<LayerInfo> build_table() {
  const std::vector<LayerArgInfo> bn_args = {
      {"momentum", 0.1, "weight of each batch in the running statistics"},
      {"eps", 1e-5, "added to the variance"}};
  const std::vector<LayerArgInfo> pool_args = {
      {"kernel", std::nullopt, "window size (square)"},
      {"stride", 0.0, "step between windows (0: the kernel size)"},
      {"padding", 0.0, "implicit padding on each side (at most kernel/2)"}};
  return {
      {"linear",
       "fully connected: y = x W^T + b, W [out, in]; on a sequence [steps, in], at every step",
       {{"out", std::nullopt, "output features (0 on the last layer: the data's classes)"},
        {"in", 0.0, "input features (0: inferred from the previous layer)"}},
       [](const std::string& name, const LayerArgs& a) -> std::unique_ptr<Layer> {
         return std::make_unique<Linear>(name, resolved_arg(a, "out", name, "the last layer"),
                                         int_arg(a, "in", name, true));
       },
       {{{{"out", 3}}, {5}}, {{{"out", 1}}, {7}}, {{{"out", 3}}, {4, 5}}}},
      {"conv2d",
       "2-D convolution over [C, H, W] with zero padding, W [out, in, k, k]",
       {{"out", std::nullopt, "output channels"},
        {"kernel", std::nullopt, "kernel size (square)"},
        {"stride", 1.0, "step between windows"},
        {"padding", 0.0, "zero padding on each side"}},
       [](const std::string& name, const LayerArgs& a) -> std::unique_ptr<Layer> {
         return std::make_unique<Conv2d>(
             name, int_arg(a, "out", name, false), int_arg(a, "kernel", name, false),
             int_arg(a, "stride", name, false), int_arg(a, "padding", name, true));
       },
       {{{{"out", 3}, {"kernel", 3}}, {2, 6, 5}},
        {{{"out", 2}, {"kernel", 3}, {"stride", 2}, {"padding", 1}}, {3, 7, 7}},
        {{{"out", 4}, {"kernel", 1}}, {3, 4, 4}}}},
      {"maxpool2d",
       "max pooling over [C, H, W] windows (PyTorch semantics, ceil_mode off)",
       pool_args,
       make_pool<MaxPool2d>,
       {{{{"kernel", 2}}, {2, 6, 6}}, {{{"kernel", 3}, {"stride", 2}, {"padding", 1}}, {2, 7, 7}}}},
      {"avgpool2d",
       "average pooling over [C, H, W] windows (count_include_pad, ceil_mode off)",
       pool_args,
       make_pool<AvgPool2d>,
       {{{{"kernel", 2}}, {2, 6, 6}}, {{{"kernel", 3}, {"stride", 2}, {"padding", 1}}, {2, 7, 7}}}},
      {"relu", "max(x, 0)", {}, make_named<ReLU>, {{{}, {11}}, {{}, {2, 3, 3}}}},
      {"tanh", "hyperbolic tangent", {}, make_named<Tanh>, {{{}, {11}}}},
      {"sigmoid", "logistic function 1 / (1 + exp(-x))", {}, make_named<Sigmoid>, {{{}, {11}}}},
      {"silu", "x * sigmoid(x) (swish)", {}, make_named<SiLU>, {{{}, {11}}}},
      {"gelu",
       "x * Phi(x), Phi the standard normal CDF (exact, torch's default)",
       {},
       make_named<GELU>,
       {{{}, {11}}}},
      {"leakyrelu",
       "x for x > 0, else negative_slope * x",
       {{"negative_slope", 0.01, "slope for x <= 0"}},
       [](const std::string& name, const LayerArgs& a) -> std::unique_ptr<Layer> {
         const double slope = a.at("negative_slope");
         SCULPT_CHECK(std::isfinite(slope), ConfigError,
                      fmt::format("layer '{}': argument 'negative_slope' must be finite, got {}",
                                  name, slope));
         return std::make_unique<LeakyReLU>(name, LeakyReluOp{.slope = static_cast<float>(slope)});
       },
       {{{{"negative_slope", 0.2}}, {11}}, {{}, {2, 3, 3}}}},
      {"batchnorm1d",
       "normalises each feature (or channel of [C, L]) over the batch; running statistics for "
       "evaluation (torch's BatchNorm1d)",
       bn_args,
       make_batch_norm<1>,
       {{{}, {5}}, {{{"momentum", 0.3}}, {3, 4}}}},
      {"batchnorm2d",
       "normalises each channel of [C, H, W] over the batch and positions; running statistics "
       "for evaluation (torch's BatchNorm2d)",
       bn_args,
       make_batch_norm<2>,
       {{{}, {3, 4, 5}}}},
      {"layernorm",
       "normalises each sample over its whole shape, then gamma * x + beta (torch's LayerNorm)",
       {{"eps", 1e-5, "added to the variance"}},
       [](const std::string& name, const LayerArgs& a) -> std::unique_ptr<Layer> {
         const double eps = a.at("eps");
         SCULPT_CHECK(eps > 0.0 && std::isfinite(eps), ConfigError,
                      fmt::format("layer '{}': argument 'eps' must be > 0, got {}", name, eps));
         return std::make_unique<LayerNorm>(name, eps);
       },
       {{{}, {11}}, {{}, {2, 3, 4}}}},
      {"embedding",
       "token ids [steps] -> their rows of a learned table [steps, dim] (torch's Embedding)",
       {{"vocab", 0.0, "number of token ids (0: the data's vocabulary)"},
        {"dim", std::nullopt, "values per token"}},
       [](const std::string& name, const LayerArgs& a) -> std::unique_ptr<Layer> {
         return std::make_unique<Embedding>(name, resolved_arg(a, "vocab", name, "an embedding"),
                                            int_arg(a, "dim", name, false));
       },
       {{{{"vocab", 7}, {"dim", 3}}, {5}}}},
      {"lstm",
       "long short-term memory over a sequence [steps, features] -> [steps, hidden] (one layer "
       "of torch's LSTM, batch_first; stack layers for more)",
       {{"hidden", std::nullopt, "hidden units"}},
       [](const std::string& name, const LayerArgs& a) -> std::unique_ptr<Layer> {
         return std::make_unique<Lstm>(name, int_arg(a, "hidden", name, false));
       },
       {{{{"hidden", 3}}, {4, 5}}, {{{"hidden", 9}}, {2, 3}}}},
      {"gru",
       "gated recurrent unit over a sequence [steps, features] -> [steps, hidden] (one layer of "
       "torch's GRU, batch_first; stack layers for more)",
       {{"hidden", std::nullopt, "hidden units"}},
       [](const std::string& name, const LayerArgs& a) -> std::unique_ptr<Layer> {
         return std::make_unique<Gru>(name, int_arg(a, "hidden", name, false));
       },
       {{{{"hidden", 3}}, {4, 5}}, {{{"hidden", 9}}, {2, 3}}}},
      {"add",
       "sum of its inputs, all of one shape (a residual connection); inputs = [...]",
       {},
       make_named<Add>,
       {{{}, {2, 3, 3}}}},
      {"concat",
       "its inputs stacked along the first axis (channels or features); inputs = [...]",
       {},
       make_named<Concat>,
       {{{}, {2, 3, 3}}}},
      {"globalavgpool",
       "mean of each channel over its [H, W] plane: [C, H, W] -> [C]",
       {},
       make_named<GlobalAvgPool2d>,
       {{{}, {3, 4, 5}}}},
      {"flatten", "[C, H, W] -> [C*H*W]", {}, make_named<Flatten>, {{{}, {2, 3, 4}}}},
      {"dropout",
       "zeroes elements with probability p in training, scales the rest by 1/(1-p)",
       {{"p", 0.5, "drop probability in [0, 1)"}},
       [](const std::string& name, const LayerArgs& a) -> std::unique_ptr<Layer> {
         const double p = a.at("p");
         SCULPT_CHECK(p >= 0.0 && p < 1.0, ConfigError,
                      fmt::format("layer '{}': argument 'p' must be in [0, 1), got {}", name, p));
         return std::make_unique<Dropout>(name, p);
       },
       {{{{"p", 0.3}}, {13}}}},
  };
}

const Registry<LayerInfo>& layers() {
  static const Registry<LayerInfo> r("model.layers.type", build_table());
  return r;
}

std::vector<std::string> type_names() { return layers().names(); }

}  // namespace

const std::vector<LayerInfo>& layer_registry() { return layers().rows(); }

const LayerInfo* find_layer_info(const std::string& type) { return layers().get(type); }

std::unique_ptr<Layer> make_layer(const LayerSpec& spec) {
  const LayerInfo* info = find_layer_info(spec.type);
  const std::string name = spec.name.empty() ? spec.type : spec.name;
  if (!info) {
    const std::string hint = did_you_mean(spec.type, type_names());
    throw ConfigError(
        fmt::format("layer '{}' has unknown type '{}'", name, spec.type), "",
        hint.empty() ? "known types: " + fmt::format("{}", fmt::join(type_names(), ", ")) : hint);
  }
  std::vector<std::string> arg_names;
  for (const auto& a : info->args) arg_names.push_back(a.name);
  for (const auto& [key, value] : spec.args) {
    if (std::find(arg_names.begin(), arg_names.end(), key) != arg_names.end()) continue;
    std::string hint = did_you_mean(key, arg_names);
    const std::string takes =
        arg_names.empty() ? spec.type + " takes no arguments"
                          : spec.type + " takes " + fmt::format("{}", fmt::join(arg_names, ", "));
    hint = hint.empty() ? takes : hint + " (" + takes + ")";
    throw ConfigError(
        fmt::format("layer '{}' ({}) has unknown argument '{}'", name, spec.type, key), "", hint);
  }
  LayerArgs args;
  for (const auto& a : info->args) {
    auto it = spec.args.find(a.name);
    if (it != spec.args.end()) {
      args[a.name] = it->second;
    } else if (a.default_value) {
      args[a.name] = *a.default_value;
    } else {
      throw ConfigError(
          fmt::format("layer '{}' ({}) is missing required argument '{}'", name, spec.type, a.name),
          "", fmt::format("add {} = <{}>", a.name, a.doc));
    }
  }
  return info->make(name, args);
}

}  // namespace sculpt::nn

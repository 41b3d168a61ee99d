// The built-in models by name (mlp, lenet5, seed-cnn, linear, binary-mlp, resnet-small): one row
// each, the layer list for `outputs` logits.
#include <fmt/format.h>

#include <functional>

#include "core/error.h"
#include "core/registry.h"
#include "nn/model.h"

namespace sculpt::nn {

namespace {

LayerSpec L(std::string type, std::map<std::string, double> args = {}, std::string name = {}) {
  return LayerSpec{std::move(type), std::move(name), std::move(args)};
}

// One pre-activation residual block (He et al. 2016, "Identity mappings in deep residual
// networks"): bn -> relu -> conv3x3 (stride) -> bn -> relu -> conv3x3, added to the block's input,
// or to a 1x1 convolution of the first relu's output when the width or the stride changes.
void residual_block(std::vector<LayerSpec>& layers, const std::string& prefix,
                    const std::string& input, int64_t in_channels, int64_t out_channels,
                    int64_t stride) {
  const auto conv = [&](const std::string& name, int64_t kernel, int64_t s, std::string from) {
    LayerSpec c = L("conv2d",
                    {{"out", double(out_channels)},
                     {"kernel", double(kernel)},
                     {"stride", double(s)},
                     {"padding", double(kernel / 2)}},
                    prefix + name);
    if (!from.empty()) c.inputs = {std::move(from)};
    return c;
  };
  LayerSpec bn1 = L("batchnorm2d", {}, prefix + "bn1");
  bn1.inputs = {input};
  layers.push_back(std::move(bn1));
  layers.push_back(L("relu", {}, prefix + "relu1"));
  layers.push_back(conv("conv1", 3, stride, {}));
  layers.push_back(L("batchnorm2d", {}, prefix + "bn2"));
  layers.push_back(L("relu", {}, prefix + "relu2"));
  layers.push_back(conv("conv2", 3, 1, {}));
  std::string shortcut = input;
  if (stride != 1 || in_channels != out_channels) {
    layers.push_back(conv("short", 1, stride, prefix + "relu1"));
    shortcut = prefix + "short";
  }
  LayerSpec add = L("add", {}, prefix + "add");
  add.inputs = {shortcut, prefix + "conv2"};
  layers.push_back(std::move(add));
}

// resnet-small: a 3x3 stem of 32 channels and a 2x2 max-pool, three pre-activation blocks of 32,
// 64 and 128 channels at 14, 7 and 4 pixels (28x28 inputs), then bn -> relu -> global average ->
// linear. About 10M multiply-adds per sample forward: the stem's pool keeps the blocks off the
// full resolution, as torchvision's ResNet stem does.
ModelSpec resnet_small(double outputs) {
  ModelSpec m;
  m.layers.push_back(L("conv2d", {{"out", 32}, {"kernel", 3}, {"padding", 1}}, "stem"));
  m.layers.push_back(L("maxpool2d", {{"kernel", 2}}, "stem.pool"));
  residual_block(m.layers, "b1.", "stem.pool", 32, 32, 1);
  residual_block(m.layers, "b2.", "b1.add", 32, 64, 2);
  residual_block(m.layers, "b3.", "b2.add", 64, 128, 2);
  m.layers.push_back(L("batchnorm2d", {}, "bn"));
  m.layers.push_back(L("relu", {}, "relu"));
  m.layers.push_back(L("globalavgpool", {}, "pool"));
  m.layers.push_back(L("linear", {{"out", outputs}}, "fc"));
  return m;
}

struct ModelRow {
  std::string name;
  std::function<ModelSpec(double outputs)> layers;
};

const Registry<ModelRow>& model_registry() {
  static const Registry<ModelRow> r(
      "model.name",
      {
          {"mlp",
           [](double k) -> ModelSpec {
             return {{L("flatten"), L("linear", {{"out", 300}}), L("relu"),
                      L("linear", {{"out", 100}}), L("relu"), L("linear", {{"out", k}})}};
           }},
          {"lenet5",
           [](double k) -> ModelSpec {
             return {{L("conv2d", {{"out", 6}, {"kernel", 5}, {"padding", 2}}), L("relu"),
                      L("maxpool2d", {{"kernel", 2}}), L("conv2d", {{"out", 16}, {"kernel", 5}}),
                      L("relu"), L("maxpool2d", {{"kernel", 2}}), L("flatten"),
                      L("linear", {{"out", 120}}), L("relu"), L("linear", {{"out", 84}}), L("relu"),
                      L("linear", {{"out", k}})}};
           }},
          {"seed-cnn",
           [](double k) -> ModelSpec {
             return {{L("conv2d", {{"out", 32}, {"kernel", 3}}), L("relu"),
                      L("conv2d", {{"out", 64}, {"kernel", 3}}), L("relu"),
                      L("maxpool2d", {{"kernel", 2}}), L("flatten"), L("linear", {{"out", 100}}),
                      L("relu"), L("linear", {{"out", k}})}};
           }},
          {"linear",
           [](double k) -> ModelSpec {
             return {{L("flatten"), L("linear", {{"out", k}})}};
           }},
          {"binary-mlp",
           [](double k) -> ModelSpec {
             return {{L("flatten"), L("linear", {{"out", 16}}), L("relu"),
                      L("linear", {{"out", 16}}), L("relu"), L("linear", {{"out", k}})}};
           }},
          {"resnet-small", resnet_small},
      });
  return r;
}

}  // namespace

std::vector<std::string> builtin_model_names() { return model_registry().names(); }

ModelSpec builtin_model(const std::string& name, int64_t outputs) {
  SCULPT_CHECK(outputs >= 1, ConfigError,
               fmt::format("model '{}' needs at least 1 output, got {}", name, outputs));
  return model_registry().find(name).layers(static_cast<double>(outputs));
}

}  // namespace sculpt::nn

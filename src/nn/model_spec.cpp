// The built-in models by name (mlp, lenet5, seed-cnn, linear, binary-mlp): one row each, the
// layer list for `outputs` logits.
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

// The built-in models by name (mlp, lenet5, seed-cnn, linear, binary-mlp).
#include <fmt/format.h>

#include "core/error.h"
#include "core/suggest.h"
#include "nn/model.h"

namespace sculpt::nn {

namespace {

LayerSpec L(std::string type, std::map<std::string, double> args = {}, std::string name = {}) {
  return LayerSpec{std::move(type), std::move(name), std::move(args)};
}

}  // namespace

std::vector<std::string> builtin_model_names() {
  return {"mlp", "lenet5", "seed-cnn", "linear", "binary-mlp"};
}

ModelSpec builtin_model(const std::string& name, int64_t outputs) {
  SCULPT_CHECK(outputs >= 1, ConfigError,
               fmt::format("model '{}' needs at least 1 output, got {}", name, outputs));
  const double k = static_cast<double>(outputs);
  if (name == "mlp") {
    return {{L("flatten"), L("linear", {{"out", 300}}), L("relu"), L("linear", {{"out", 100}}),
             L("relu"), L("linear", {{"out", k}})}};
  }
  if (name == "lenet5") {
    return {{L("conv2d", {{"out", 6}, {"kernel", 5}, {"padding", 2}}), L("relu"),
             L("maxpool2d", {{"kernel", 2}}), L("conv2d", {{"out", 16}, {"kernel", 5}}), L("relu"),
             L("maxpool2d", {{"kernel", 2}}), L("flatten"), L("linear", {{"out", 120}}), L("relu"),
             L("linear", {{"out", 84}}), L("relu"), L("linear", {{"out", k}})}};
  }
  if (name == "seed-cnn") {
    return {{L("conv2d", {{"out", 32}, {"kernel", 3}}), L("relu"),
             L("conv2d", {{"out", 64}, {"kernel", 3}}), L("relu"), L("maxpool2d", {{"kernel", 2}}),
             L("flatten"), L("linear", {{"out", 100}}), L("relu"), L("linear", {{"out", k}})}};
  }
  if (name == "linear") return {{L("flatten"), L("linear", {{"out", k}})}};
  if (name == "binary-mlp") {
    return {{L("flatten"), L("linear", {{"out", 16}}), L("relu"), L("linear", {{"out", 16}}),
             L("relu"), L("linear", {{"out", k}})}};
  }
  const std::string hint = did_you_mean(name, builtin_model_names());
  throw ConfigError(fmt::format("unknown built-in model '{}'", name), "model.name",
                    hint.empty() ? "built-in models: mlp, lenet5, seed-cnn, linear, binary-mlp"
                                 : hint);
}

}  // namespace sculpt::nn

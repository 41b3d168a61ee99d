// BatchNorm folding on an export: the spec loses the layer, the preceding layer's weight and
// bias take its affine map.
#include "infer/fold.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

#include "core/error.h"

namespace sculpt::infer {

namespace {

bool is_batch_norm(const std::string& type) {
  return type == "batchnorm1d" || type == "batchnorm2d";
}

ExportTensor& tensor(ExportModel& m, const std::string& name) {
  const auto it = std::find_if(m.tensors.begin(), m.tensors.end(),
                               [&](const ExportTensor& t) { return t.name == name; });
  SCULPT_CHECK(it != m.tensors.end(), DataError,
               fmt::format("the export has no tensor '{}' to fold", name));
  return *it;
}

// Folds layer `bn` into layer `into` (its predecessor, a conv2d or linear with a bias).
void fold(ExportModel& m, const nn::LayerSpec& into, const nn::LayerSpec& bn) {
  const auto eps_arg = bn.args.find("eps");
  const double eps = eps_arg == bn.args.end() ? 1e-5 : eps_arg->second;
  std::vector<float>& w = tensor(m, into.name + ".weight").values;
  std::vector<float>& b = tensor(m, into.name + ".bias").values;
  const std::vector<float>& gamma = tensor(m, bn.name + ".weight").values;
  const std::vector<float>& beta = tensor(m, bn.name + ".bias").values;
  const std::vector<float>& mean = tensor(m, bn.name + ".running_mean").values;
  const std::vector<float>& var = tensor(m, bn.name + ".running_var").values;
  const size_t channels = b.size();
  SCULPT_CHECK(gamma.size() == channels && w.size() % channels == 0, ShapeError,
               fmt::format("layer '{}' has {} channels but '{}' before it has {} outputs", bn.name,
                           gamma.size(), into.name, channels));
  const size_t per = w.size() / channels;
  for (size_t o = 0; o < channels; ++o) {
    const double s = gamma[o] / std::sqrt(double{var[o]} + eps);
    for (size_t j = 0; j < per; ++j) w[o * per + j] = static_cast<float>(s * w[o * per + j]);
    b[o] = static_cast<float>(s * (double{b[o]} - mean[o]) + beta[o]);
  }
  std::erase_if(m.tensors,
                [&](const ExportTensor& t) { return t.name.rfind(bn.name + ".", 0) == 0; });
}

// Whether layer i - 1's output goes to layer i alone (the only way folding keeps the others'
// inputs unchanged): layer i reads it implicitly or by name, and no other layer names it.
bool feeds_only_next(const std::vector<nn::LayerSpec>& layers, size_t i) {
  const std::string& prev = layers[i - 1].name;
  const std::vector<std::string>& in = layers[i].inputs;
  if (!in.empty() && in != std::vector<std::string>{prev}) return false;
  for (size_t k = 0; k < layers.size(); ++k) {
    if (k == i) continue;
    const std::vector<std::string>& other = layers[k].inputs;
    if (std::find(other.begin(), other.end(), prev) != other.end()) return false;
  }
  return true;
}

}  // namespace

std::vector<std::string> fold_batch_norms(ExportModel& m) {
  std::vector<std::string> folded;
  std::vector<nn::LayerSpec>& layers = m.header.spec.layers;
  for (size_t i = 1; i < layers.size();) {
    const std::string& prev = layers[i - 1].type;
    if (is_batch_norm(layers[i].type) && (prev == "conv2d" || prev == "linear") &&
        feeds_only_next(layers, i)) {
      fold(m, layers[i - 1], layers[i]);
      // Readers of the BatchNorm now read the layer it was folded into.
      const std::string bn = layers[i].name, into = layers[i - 1].name;
      for (nn::LayerSpec& l : layers) std::replace(l.inputs.begin(), l.inputs.end(), bn, into);
      folded.push_back(bn);
      layers.erase(layers.begin() + static_cast<std::ptrdiff_t>(i));
    } else {
      ++i;
    }
  }
  return folded;
}

}  // namespace sculpt::infer

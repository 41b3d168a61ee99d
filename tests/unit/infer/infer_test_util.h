// Test helpers for the export format and the inference runtime: small models with random
// weights and a chosen fraction of zeros, as exports and as the trainer's own nn::Model (the
// reference every export must reproduce).
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "core/param_store.h"
#include "core/rng.h"
#include "infer/export_format.h"
#include "nn/model.h"
#include "prune/surgery.h"

namespace sculpt::infer::testing {

inline nn::LayerSpec L(std::string type, std::map<std::string, double> args = {}) {
  return nn::LayerSpec{std::move(type), "", std::move(args)};
}

struct RefNet {
  std::unique_ptr<nn::Model> model;
  ParamStore ps;
  ExportModel ex;

  // Logits of the reference model for raw inputs x (n samples): standardised as the export
  // says, then the trainer's forward pass.
  std::vector<float> logits(const std::vector<float>& x, int64_t n) {
    std::vector<float> xs(x);
    for (float& v : xs) v = (v - ex.header.norm_mean) / ex.header.norm_std;
    model->reserve(n);
    const float* y = model->forward(ps, xs.data(), n, nn::Pass{});
    return std::vector<float>(y, y + n * model->outputs());
  }
};

// Random weights (PyTorch's default init, plus random biases); in every tensor of rank >= 2 each
// entry is zeroed with probability `sparsity`, and with `dead_row` row 0 is zeroed entirely.
inline RefNet make_net(const nn::ModelSpec& spec, const Shape& input, double sparsity,
                       uint64_t seed, const std::string& task = "classification",
                       bool dead_row = false) {
  RefNet r;
  r.model = std::make_unique<nn::Model>(nn::Model::build(spec, input));
  r.model->declare(r.ps);
  r.ps.finalize();
  Rng rng(seed);
  r.model->init(r.ps, rng);
  ExportHeader& h = r.ex.header;
  h.spec = prune::named_spec(*r.model, spec);
  h.input = input;
  h.task = task;
  h.outputs = r.model->outputs();
  h.norm_mean = 0.25f;
  h.norm_std = 1.5f;
  h.input_format = "raw";
  h.info = {{"source", "test"}};
  for (size_t i = 0; i < r.ps.count(); ++i) {
    const ParamEntry& e = r.ps.entry(i);
    float* v = r.ps.value(i);
    const bool matrix = e.shape.size() >= 2;
    for (int64_t j = 0; j < e.size; ++j) {
      if (!matrix) v[j] = 0.1f * (2.0f * rng.uniform_float() - 1.0f);  // biases: not all zero
      if (matrix && rng.uniform_float() < sparsity) v[j] = 0.0f;
      if (matrix && dead_row && j < e.size / e.shape[0]) v[j] = 0.0f;
    }
    r.ex.tensors.push_back({e.name, e.shape, std::vector<float>(v, v + e.size)});
  }
  return r;
}

inline std::vector<float> random_inputs(int64_t n, int64_t size, uint64_t seed) {
  Rng rng(seed);
  std::vector<float> x(static_cast<size_t>(n * size));
  for (float& v : x) v = rng.uniform_float();
  return x;
}

inline nn::ModelSpec mlp_spec(int64_t outputs = 10) {
  return {{L("flatten"), L("linear", {{"out", 40}}), L("relu"), L("linear", {{"out", 24}}),
           L("relu"), L("linear", {{"out", double(outputs)}})}};
}

// A character model over windows of `steps` token ids: embedding -> `cell` (lstm or gru) ->
// dropout -> `cell` -> a linear layer per position, `vocab` logits each; its vocabulary is the
// letters from 'a', and its inputs are token ids (no standardisation). Weight matrices lose
// entries with probability `sparsity`, as make_net's.
inline RefNet make_text_net(const std::string& cell, int64_t vocab, int64_t steps, uint64_t seed,
                            double sparsity = 0.0) {
  const nn::ModelSpec spec{{L("embedding", {{"vocab", double(vocab)}, {"dim", 5}}),
                            L(cell, {{"hidden", 8}}), L("dropout", {{"p", 0.3}}),
                            L(cell, {{"hidden", 6}}), L("linear", {{"out", double(vocab)}})}};
  RefNet r = make_net(spec, {steps}, sparsity, seed);
  ExportHeader& h = r.ex.header;
  h.norm_mean = 0.0f;
  h.norm_std = 1.0f;
  h.input_format = "text";
  std::vector<char32_t> chars;
  for (int64_t i = 0; i < vocab; ++i) chars.push_back(char32_t(U'a' + i));
  h.vocabulary = data::Vocabulary(data::TextVocabulary::kChar, std::move(chars));
  return r;
}

// n windows of `steps` random token ids in [0, vocab), as floats (what predict() takes).
inline std::vector<float> random_tokens(int64_t n, int64_t steps, int64_t vocab, uint64_t seed) {
  Rng rng(seed);
  std::vector<float> x(static_cast<size_t>(n * steps));
  for (float& v : x) v = float(rng.below(uint64_t(vocab)));
  return x;
}

inline nn::ModelSpec conv_spec() {
  return {{L("conv2d", {{"out", 6}, {"kernel", 5}, {"padding", 2}}), L("relu"),
           L("maxpool2d", {{"kernel", 2}}), L("conv2d", {{"out", 8}, {"kernel", 3}}), L("relu"),
           L("conv2d", {{"out", 4}, {"kernel", 1}}), L("tanh"), L("avgpool2d", {{"kernel", 2}}),
           L("flatten"), L("dropout", {{"p", 0.5}}), L("linear", {{"out", 20}}), L("sigmoid"),
           L("linear", {{"out", 5}})}};
}

}  // namespace sculpt::infer::testing

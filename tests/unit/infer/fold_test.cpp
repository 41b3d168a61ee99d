// BatchNorm folding: the folded export computes the evaluation logits of the model it came from,
// and only BatchNorms that follow a convolution or a linear layer leave.
#include "infer/fold.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>

#include "core/param_store.h"
#include "core/rng.h"
#include "infer/inference_model.h"
#include "nn/model.h"

namespace sculpt::infer {
namespace {

nn::LayerSpec layer(std::string type, std::string name, std::map<std::string, double> args = {},
                    std::vector<std::string> inputs = {}) {
  return {std::move(type), std::move(name), std::move(args), std::move(inputs)};
}

// Evaluation logits of `spec` with the tensors of `m` on `x`.
std::vector<float> logits(const nn::ModelSpec& spec, const ExportModel& m,
                          const std::vector<float>& x, int64_t n) {
  nn::Model model = nn::Model::build(spec, m.header.input);
  ParamStore ps;
  model.declare(ps);
  ps.finalize();
  EXPECT_EQ(ps.count(), m.tensors.size());
  for (const ExportTensor& t : m.tensors)
    std::copy(t.values.begin(), t.values.end(), ps.value(*ps.find(t.name)));
  model.reserve(n);
  const float* y = model.forward(ps, x.data(), n, nn::Pass{.mode = nn::Mode::kEval});
  return {y, y + n * model.outputs()};
}

// Random tensors for every parameter of m's model, in declaration order; running variances
// positive.
void fill_tensors(ExportModel& m, Rng& rng) {
  nn::Model model = nn::Model::build(m.header.spec, m.header.input);
  ParamStore ps;
  model.declare(ps);
  for (const ParamEntry& e : ps.entries()) {
    std::vector<float> v(static_cast<size_t>(e.size));
    const bool var = e.name.ends_with("running_var");
    for (float& f : v) f = static_cast<float>(var ? rng.uniform(0.3, 2.0) : rng.uniform(-1, 1));
    m.tensors.push_back({e.name, e.shape, v});
  }
}

std::vector<float> inputs(int64_t size, Rng& rng) {
  std::vector<float> x(static_cast<size_t>(size));
  for (float& f : x) f = static_cast<float>(rng.uniform(-2, 2));
  return x;
}

TEST(FoldBatchNorms, TheFoldedModelGivesTheSameLogits) {
  ExportModel m;
  m.header.input = {2, 6, 6};
  m.header.spec.layers = {layer("conv2d", "conv1", {{"out", 4}, {"kernel", 3}, {"padding", 1}}),
                          layer("batchnorm2d", "bn1", {{"eps", 1e-3}}),
                          layer("relu", "relu1"),
                          layer("batchnorm2d", "bn2"),  // after relu: kept
                          layer("flatten", "flat"),
                          layer("linear", "fc1", {{"out", 5}}),
                          layer("batchnorm1d", "bn3"),
                          layer("linear", "fc2", {{"out", 3}})};
  Rng rng(4);
  fill_tensors(m, rng);
  m.tensors.front().values[3] = 0.0f;  // conv1.weight: a pruned weight stays pruned
  const int64_t n = 3;
  const std::vector<float> x = inputs(n * 72, rng);
  const std::vector<float> before = logits(m.header.spec, m, x, n);

  EXPECT_EQ(fold_batch_norms(m), (std::vector<std::string>{"bn1", "bn3"}));
  std::vector<std::string> types;
  for (const nn::LayerSpec& l : m.header.spec.layers) types.push_back(l.type);
  EXPECT_EQ(types, (std::vector<std::string>{"conv2d", "relu", "batchnorm2d", "flatten", "linear",
                                             "linear"}));
  const std::vector<float> after = logits(m.header.spec, m, x, n);
  ASSERT_EQ(after.size(), before.size());
  for (size_t i = 0; i < before.size(); ++i) EXPECT_NEAR(after[i], before[i], 1e-4) << i;
  const auto w = std::find_if(m.tensors.begin(), m.tensors.end(),
                              [](const ExportTensor& t) { return t.name == "conv1.weight"; });
  ASSERT_NE(w, m.tensors.end());
  EXPECT_EQ(w->values[3], 0.0f);
}

// A residual block: the BatchNorm on the branch folds into its conv, the add then reads the
// conv; the runtime runs the graph and gives the model's evaluation logits.
TEST(FoldBatchNorms, AGraphKeepsItsJoinsAndTheRuntimeRunsIt) {
  ExportModel m;
  m.header.input = {2, 5, 5};
  m.header.task = "classification";
  m.header.outputs = 3;
  m.header.spec.layers = {layer("conv2d", "c0", {{"out", 3}, {"kernel", 3}, {"padding", 1}}),
                          layer("relu", "r0"),
                          layer("conv2d", "c1", {{"out", 3}, {"kernel", 3}, {"padding", 1}}),
                          layer("batchnorm2d", "b1"),
                          layer("add", "sum", {}, {"b1", "r0"}),
                          layer("flatten", "flat"),
                          layer("linear", "fc", {{"out", 3}})};
  Rng rng(6);
  fill_tensors(m, rng);
  const int64_t n = 2;
  const std::vector<float> x = inputs(n * 50, rng);
  const std::vector<float> before = logits(m.header.spec, m, x, n);

  EXPECT_EQ(fold_batch_norms(m), (std::vector<std::string>{"b1"}));
  EXPECT_EQ(m.header.spec.layers[3].inputs, (std::vector<std::string>{"c1", "r0"}));
  InferenceModel runtime = InferenceModel::from_export(m, {}, "graph");
  const std::vector<float> after = runtime.predict(x);
  ASSERT_EQ(after.size(), before.size());
  for (size_t i = 0; i < before.size(); ++i) EXPECT_NEAR(after[i], before[i], 1e-4) << i;
}

}  // namespace
}  // namespace sculpt::infer

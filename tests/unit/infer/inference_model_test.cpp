// The inference runtime against the trainer's own forward pass: dense, sparse and auto kernels,
// batch 1 and batches (with the layout transposes), chunking beyond max_batch, convolutions,
// pooling and every activation; the logits within 1e-4 and the same classes. Then its errors.
#include "infer/inference_model.h"

#include <gtest/gtest.h>
#include <omp.h>

#include "core/error.h"
#include "infer_test_util.h"

namespace sculpt {
namespace {

using infer::testing::conv_spec;
using infer::testing::make_net;
using infer::testing::mlp_spec;
using infer::testing::random_inputs;

void expect_close(const std::vector<float>& got, const std::vector<float>& want) {
  ASSERT_EQ(got.size(), want.size());
  for (size_t i = 0; i < got.size(); ++i)
    ASSERT_NEAR(got[i], want[i], 1e-4f * std::max(1.0f, std::abs(want[i]))) << "logit " << i;
}

void check_matches_reference(const nn::ModelSpec& spec, const Shape& input, double sparsity,
                             bool dead_row) {
  auto net = make_net(spec, input, sparsity, 5, "classification", dead_row);
  for (const char* kernels : {"dense", "sparse", "auto"}) {
    for (int64_t n : {1, 2, 7, 64}) {
      SCOPED_TRACE(fmt::format("sparsity {} kernels {} n {}", sparsity, kernels, n));
      infer::InferenceModel m = infer::InferenceModel::from_export(net.ex, {kernels, 16}, "test");
      const std::vector<float> x = random_inputs(n, numel(input), uint64_t(n));
      const std::vector<float> want = net.logits(x, n);
      expect_close(m.predict(x), want);
      const std::vector<int32_t> cls = m.classify(x);
      EXPECT_EQ(cls, infer::classes_of(want.data(), n, m.outputs()));
    }
  }
}

TEST(InferenceModel, MlpMatchesTheTrainersForwardPass) {
  for (double s : {0.0, 0.6, 0.95}) check_matches_reference(mlp_spec(), {1, 6, 6}, s, s > 0.5);
}

TEST(InferenceModel, ConvNetMatchesTheTrainersForwardPass) {
  for (double s : {0.0, 0.7}) check_matches_reference(conv_spec(), {1, 16, 16}, s, s > 0.5);
}

// A graph: a residual add and a concat of two branches, convolutions and Linears, on every
// kernel choice (its sparse layers run on SparseLayer).
nn::ModelSpec graph_spec() {
  const auto G = [](std::string type, std::string name, std::map<std::string, double> args,
                    std::vector<std::string> inputs = {}) {
    return nn::LayerSpec{std::move(type), std::move(name), std::move(args), std::move(inputs)};
  };
  return {
      {G("conv2d", "stem", {{"out", 6}, {"kernel", 3}, {"padding", 1}}), G("relu", "r1", {}),
       G("conv2d", "c1", {{"out", 6}, {"kernel", 3}, {"padding", 1}}),
       G("add", "add", {}, {"stem", "c1"}),
       G("conv2d", "side", {{"out", 3}, {"kernel", 3}, {"stride", 2}, {"padding", 1}}, {"input"}),
       G("maxpool2d", "pool", {{"kernel", 2}}, {"add"}), G("concat", "cat", {}, {"pool", "side"}),
       G("relu", "r2", {}), G("flatten", "flat", {}), G("linear", "fc1", {{"out", 12}}),
       G("relu", "r3", {}), G("linear", "fc2", {{"out", 4}})}};
}

TEST(InferenceModel, GraphMatchesTheTrainersForwardPass) {
  for (double s : {0.0, 0.8}) check_matches_reference(graph_spec(), {1, 8, 8}, s, s > 0.5);
  auto net = make_net(graph_spec(), {1, 8, 8}, 0.8, 4);
  const infer::InferenceModel m = infer::InferenceModel::from_export(net.ex, {}, "test");
  ASSERT_EQ(m.layers().size(), 5u);
  for (const infer::InferenceLayer& l : m.layers())  // auto: all sparse enough at 80%
    EXPECT_EQ(l.kernel, "sparse") << l.name;
}

TEST(InferenceModel, StaysInItsBuffersWhenThreadsAreRaisedAfterLoading) {
  // Per-thread im2col buffers are sized at load: a later, higher thread count must not index
  // past them (ASan catches it in the debug build).
  auto net = make_net(conv_spec(), {1, 16, 16}, 0.5, 8);
  const int before = omp_get_max_threads();
  omp_set_num_threads(1);
  infer::InferenceModel m = infer::InferenceModel::from_export(net.ex, {"sparse", 16}, "test");
  omp_set_num_threads(std::max(2, before));
  const std::vector<float> x = random_inputs(8, 256, 3);
  expect_close(m.predict(x), net.logits(x, 8));
  omp_set_num_threads(before);
}

TEST(InferenceModel, PicksSparseKernelsBySparsityAndFusesRelu) {
  auto net = make_net(mlp_spec(), {1, 6, 6}, 0.0, 2);
  // Only fc2 sparse: 1 in 10 kept (in the export and the reference).
  float* ref = net.ps.value(2);
  for (size_t i = 0; i < net.ex.tensors[2].values.size(); ++i)
    if (i % 10) net.ex.tensors[2].values[i] = ref[i] = 0.0f;
  infer::InferenceModel m = infer::InferenceModel::from_export(net.ex, {}, "test");
  ASSERT_EQ(m.layers().size(), 3u);
  EXPECT_EQ(m.layers()[0].kernel, "dense");
  EXPECT_EQ(m.layers()[1].kernel, "sparse");
  EXPECT_EQ(m.layers()[1].name, "fc2+relu");
  EXPECT_EQ(m.layers()[2].kernel, "dense");
  EXPECT_EQ(m.layers()[1].nonzeros, 96);
  int64_t nz = 0;
  for (const auto& t : net.ex.tensors)
    nz += int64_t(t.values.size()) - std::count(t.values.begin(), t.values.end(), 0.0f);
  EXPECT_EQ(m.nonzeros(), nz);
  EXPECT_EQ(m.num_params(), net.ps.num_params());
  const std::vector<float> x = random_inputs(9, 36, 1);
  expect_close(m.predict(x), net.logits(x, 9));
}

TEST(InferenceModel, BinaryAndRegressionOutputs) {
  auto bin = make_net(mlp_spec(1), {1, 6, 6}, 0.5, 4, "binary");
  infer::InferenceModel b = infer::InferenceModel::from_export(bin.ex, {}, "test");
  const std::vector<float> x = random_inputs(20, 36, 2);
  const std::vector<float> logits = bin.logits(x, 20);
  const std::vector<int32_t> cls = b.classify(x);
  for (size_t i = 0; i < cls.size(); ++i) EXPECT_EQ(cls[i], logits[i] > 0.0f ? 1 : 0);
  auto reg = make_net(mlp_spec(2), {1, 6, 6}, 0.5, 4, "regression");
  infer::InferenceModel r = infer::InferenceModel::from_export(reg.ex, {}, "test");
  expect_close(r.predict(x), reg.logits(x, 20));
  EXPECT_THROW(r.classify(x), ConfigError);
}

TEST(InferenceModel, RejectsWrongInputsAndMismatchedFiles) {
  auto net = make_net(mlp_spec(), {1, 6, 6}, 0.5, 4);
  infer::InferenceModel m = infer::InferenceModel::from_export(net.ex, {}, "model.sculpt");
  try {
    m.predict(std::vector<float>(37));
    FAIL() << "no error for 37 values";
  } catch (const ShapeError& e) {
    EXPECT_NE(std::string(e.what()).find("not a multiple of the model's 36"), std::string::npos);
  }
  auto expect_data_error = [](const infer::ExportModel& ex, const std::string& part) {
    try {
      infer::InferenceModel::from_export(ex, {}, "model.sculpt");
      ADD_FAILURE() << "no error, expected " << part;
    } catch (const DataError& e) {
      EXPECT_NE(std::string(e.what()).find(part), std::string::npos) << e.what();
      EXPECT_NE(std::string(e.what()).find("model.sculpt"), std::string::npos) << e.what();
    }
  };
  infer::ExportModel bad = net.ex;
  bad.tensors[0].shape = {36, 40};
  expect_data_error(bad, "the model expects 'fc1.weight' [40, 36]");
  bad = net.ex;
  bad.tensors.pop_back();
  expect_data_error(bad, "holds 5 tensors, the model has 6");
  bad = net.ex;
  bad.header.outputs = 11;
  expect_data_error(bad, "the header says 11");
  bad = net.ex;
  bad.header.spec.layers[1].type = "lineer";
  expect_data_error(bad, "does not build");
  bad = net.ex;
  bad.header.input = {1, 5, 5};
  expect_data_error(bad, "fc1");
  EXPECT_THROW(infer::InferenceModel::from_export(net.ex, {"fast", 16}, "x"), ConfigError);
}

}  // namespace
}  // namespace sculpt

// Model: default names, built-in models' parameter counts, shape errors naming the layer,
// forward/backward chaining against layer-by-layer calls, summary.
#include "nn/model.h"

#include <gtest/gtest.h>

#include "core/error.h"
#include "nn/layers/linear.h"

namespace sculpt::nn {
namespace {

int64_t param_count(const std::string& name, const Shape& in, int64_t outputs) {
  Model m = Model::build(builtin_model(name, outputs), in);
  ParamStore ps;
  m.declare(ps);
  return ps.num_params();
}

TEST(Model, BuiltinParameterCounts) {
  EXPECT_EQ(param_count("mlp", {1, 28, 28}, 10), 266610);
  EXPECT_EQ(param_count("lenet5", {1, 28, 28}, 10), 61706);
  // seed-cnn on 28x28: conv 1->32 k3 (26x26), conv 32->64 k3 (24x24), pool -> 12x12.
  const int64_t seed_cnn =
      (32 * 1 * 9 + 32) + (64 * 32 * 9 + 64) + (64 * 12 * 12 * 100 + 100) + (100 * 10 + 10);
  EXPECT_EQ(param_count("seed-cnn", {1, 28, 28}, 10), seed_cnn);
  EXPECT_EQ(param_count("linear", {1, 28, 28}, 10), 7850);
  EXPECT_EQ(param_count("binary-mlp", {2}, 1), (2 * 16 + 16) + (16 * 16 + 16) + (16 + 1));
}

TEST(Model, DefaultNamesCountPerType) {
  Model m = Model::build(builtin_model("lenet5", 10), {1, 28, 28});
  std::vector<std::string> names;
  for (size_t i = 0; i < m.size(); ++i) names.push_back(m.layer(i).name());
  EXPECT_EQ(names, (std::vector<std::string>{"conv1", "relu1", "maxpool2d1", "conv2", "relu2",
                                             "maxpool2d2", "flatten1", "fc1", "relu3", "fc2",
                                             "relu4", "fc3"}));
  EXPECT_EQ(m.output_shape(), (Shape{10}));
  ModelSpec spec{{{"linear", "head", {{"out", 2}}}}};
  EXPECT_EQ(Model::build(spec, {4}).layer(0).name(), "head");
}

TEST(Model, ShapeErrorNamesTheLayer) {
  ModelSpec spec = builtin_model("mlp", 10);
  spec.layers.erase(spec.layers.begin());  // no flatten: fc1 receives an image
  try {
    Model::build(spec, {1, 28, 28});
    FAIL() << "no error";
  } catch (const ShapeError& e) {
    EXPECT_NE(std::string(e.what()).find("'fc1'"), std::string::npos) << e.what();
    EXPECT_NE(e.hint().find("flatten"), std::string::npos);
  }
  ModelSpec conv{{{"conv2d", "", {{"out", 4}, {"kernel", 5}}}}};
  try {
    Model::build(conv, {1, 3, 3});
    FAIL() << "no error";
  } catch (const ShapeError& e) {
    EXPECT_NE(std::string(e.what()).find("'conv1'"), std::string::npos) << e.what();
  }
}

TEST(Model, UnknownBuiltinSuggestsTheClosestName) {
  try {
    builtin_model("lenet", 10);
    FAIL() << "no error";
  } catch (const ConfigError& e) {
    EXPECT_EQ(e.hint(), "did you mean 'lenet5'?");
  }
}

TEST(Model, ForwardAndBackwardChainTheLayers) {
  // A 2-layer model against the same two Linear layers driven by hand.
  ModelSpec spec{{{"linear", "", {{"out", 3}}}, {"tanh", "", {}}, {"linear", "", {{"out", 2}}}}};
  Model m = Model::build(spec, {4});
  ParamStore ps;
  m.declare(ps);
  ps.finalize();
  Rng rng(1);
  m.init(ps, rng);
  m.reserve(5);
  std::vector<float> x(10), dl = {1, -1, 0.5f, 2};
  for (auto& v : x) v = static_cast<float>(rng.uniform(-1, 1));
  const float* out = m.forward(ps, x.data(), 2, {});
  std::vector<float> logits(out, out + 4);
  m.backward(ps, x.data(), dl.data(), 2);

  std::vector<float> h(6), t(6), y(4), dt(6), dh(6);
  ParamStore ps2;
  m.declare(ps2);  // same layout, fresh grads
  ps2.finalize();
  std::copy(ps.values().begin(), ps.values().end(), ps2.values().begin());
  Layer &l1 = m.layer(0), &l2 = m.layer(1), &l3 = m.layer(2);
  l1.forward(ps2, x.data(), h.data(), 2, {});
  l2.forward(ps2, h.data(), t.data(), 2, {});
  l3.forward(ps2, t.data(), y.data(), 2, {});
  EXPECT_EQ(logits, y);
  l3.backward(ps2, t.data(), y.data(), dl.data(), dt.data(), 2);
  l2.backward(ps2, h.data(), t.data(), dt.data(), dh.data(), 2);
  l1.backward(ps2, x.data(), h.data(), dh.data(), nullptr, 2);
  for (size_t i = 0; i < ps.grads().size(); ++i) EXPECT_EQ(ps.grads()[i], ps2.grads()[i]) << i;
  EXPECT_THROW(m.forward(ps, x.data(), 6, {}), ShapeError);
}

TEST(Model, BackwardStopsAtTheFirstLayerWithParameters) {
  // flatten -> relu -> linear: the linear layer gets dx = nullptr and flatten/relu no call;
  // the parameter gradients equal those of the linear layer driven alone.
  ModelSpec spec{{{"flatten", "", {}}, {"relu", "", {}}, {"linear", "", {{"out", 2}}}}};
  Model m = Model::build(spec, {1, 2, 2});
  ParamStore ps;
  m.declare(ps);
  ps.finalize();
  Rng rng(2);
  m.init(ps, rng);
  m.reserve(3);
  const std::vector<float> x = {1, -2, 3, 4, -1, 2, 0.5f, -3, 2, 2, -2, 1};
  const std::vector<float> dl = {1, 2, -1, 0.5f, 3, -2};
  m.forward(ps, x.data(), 3, {});
  m.backward(ps, x.data(), dl.data(), 3);
  std::vector<float> h(12), y(6);
  ParamStore ps2;
  m.declare(ps2);
  ps2.finalize();
  std::copy(ps.values().begin(), ps.values().end(), ps2.values().begin());
  m.layer(1).forward(ps2, x.data(), h.data(), 3, {});
  m.layer(2).forward(ps2, h.data(), y.data(), 3, {});
  m.layer(2).backward(ps2, h.data(), y.data(), dl.data(), nullptr, 3);
  for (size_t i = 0; i < ps.grads().size(); ++i) EXPECT_EQ(ps.grads()[i], ps2.grads()[i]) << i;
}

TEST(Model, AFlattenInAChainIsAViewBothWays) {
  // conv -> flatten -> linear: the model hands the convolution's output to the linear layer
  // and the linear layer's dx to the convolution; the same bits as driving the three layers,
  // flatten copying, by hand. A model ending in a flatten returns the layer before it.
  ModelSpec spec{{{"conv2d", "", {{"out", 2}, {"kernel", 3}}},
                  {"flatten", "", {}},
                  {"linear", "", {{"out", 3}}}}};
  Model m = Model::build(spec, {1, 4, 4});
  ParamStore ps, ps2;
  m.declare(ps);
  ps.finalize();
  m.declare(ps2);
  ps2.finalize();
  Rng rng(4);
  m.init(ps, rng);
  std::copy(ps.values().begin(), ps.values().end(), ps2.values().begin());
  m.reserve(2);
  std::vector<float> x(32), dl(6);
  for (float& v : x) v = static_cast<float>(rng.normal());
  for (float& v : dl) v = static_cast<float>(rng.normal());
  const float* logits = m.forward(ps, x.data(), 2, {});
  const std::vector<float> got(logits, logits + 6);
  m.backward(ps, x.data(), dl.data(), 2);
  std::vector<float> c(16), f(16), y(6), df(16), dc(16);
  m.layer(0).forward(ps2, x.data(), c.data(), 2, {});
  m.layer(1).forward(ps2, c.data(), f.data(), 2, {});
  m.layer(2).forward(ps2, f.data(), y.data(), 2, {});
  EXPECT_EQ(got, y);
  m.layer(2).backward(ps2, f.data(), y.data(), dl.data(), df.data(), 2);
  m.layer(1).backward(ps2, c.data(), f.data(), df.data(), dc.data(), 2);
  m.layer(0).backward(ps2, x.data(), c.data(), dc.data(), nullptr, 2);
  for (size_t i = 0; i < ps.grads().size(); ++i) EXPECT_EQ(ps.grads()[i], ps2.grads()[i]) << i;

  Model tail = Model::build(ModelSpec{{spec.layers[0], spec.layers[1]}}, {1, 4, 4});
  ParamStore ps3;
  tail.declare(ps3);
  ps3.finalize();
  std::copy_n(ps.values().begin(), ps3.values().size(), ps3.values().begin());
  tail.reserve(2);
  const float* out = tail.forward(ps3, x.data(), 2, {});
  EXPECT_EQ(std::vector<float>(out, out + 16), c);
}

TEST(Model, SummaryListsLayersAndTotal) {
  Model m = Model::build(builtin_model("mlp", 10), {1, 28, 28});
  ParamStore ps;
  m.declare(ps);
  const std::string s = m.summary(ps);
  EXPECT_NE(s.find("fc1 Linear(784 -> 300)"), std::string::npos) << s;
  EXPECT_NE(s.find("235,500"), std::string::npos) << s;
  EXPECT_NE(s.find("total parameters: 266,610"), std::string::npos) << s;
}

}  // namespace
}  // namespace sculpt::nn

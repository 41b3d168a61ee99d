// Every layer against PyTorch (float64) golden values from scripts/make_golden.py: output,
// input gradient and parameter gradients, built through the layer registry.
#include "golden/golden.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <vector>

#include "core/param_store.h"
#include "nn/registry.h"

namespace sculpt::nn {
namespace {

using nlohmann::json;

LayerSpec spec_of(const json& j) {
  LayerSpec spec{.type = j.at("type"), .name = j.at("name"), .args = {}};
  for (const auto& [key, value] : j.at("args").items()) spec.args[key] = value.get<double>();
  return spec;
}

// A layer bound, declared and loaded with the golden parameters.
struct Bound {
  std::unique_ptr<Layer> layer;
  ParamStore ps;
  int64_t n = 0;
};

void bind_and_load(const json& g, Bound& b) {
  b.layer = make_layer(spec_of(g.at("spec")));
  b.n = g.at("batch").get<int64_t>();
  const Shape out = b.layer->bind(g.at("in_shape").get<Shape>());
  ASSERT_EQ(out, g.at("out_shape").get<Shape>()) << "per-sample output shape";
  b.layer->declare(b.ps);
  b.ps.finalize();
  ASSERT_EQ(b.ps.count(), g.at("params").size()) << "number of declared parameters";
  for (const auto& [name, p] : g.at("params").items()) {
    const auto idx = b.ps.find(name);
    ASSERT_TRUE(idx.has_value()) << "the layer declares no parameter named " << name;
    ASSERT_EQ(b.ps.entry(*idx).shape, p.at("shape").get<Shape>()) << name << " shape";
    const std::vector<float> data = golden::floats(p.at("data"));
    std::copy(data.begin(), data.end(), b.ps.value(*idx));
  }
  b.layer->reserve(b.n);
}

// Cases of layers that differ in training (BatchNorm's batch statistics) say "mode": "train";
// the rest were computed as evaluation.
Mode mode_of(const json& g) {
  return g.value("mode", "eval") == "train" ? Mode::kTrain : Mode::kEval;
}

class LayerGolden : public ::testing::TestWithParam<std::string> {};

TEST_P(LayerGolden, ForwardAndBackwardMatchPyTorch) {
  const json g = golden::load(GetParam());
  ASSERT_EQ(g.value("kind", ""), "layer");
  Bound b;
  ASSERT_NO_FATAL_FAILURE(bind_and_load(g, b));
  const std::vector<float> x = golden::floats(g.at("x"));
  const std::vector<float> dy = golden::floats(g.at("dy"));
  ASSERT_EQ(int64_t(x.size()), b.n * numel(b.layer->in_shape()));
  ASSERT_EQ(int64_t(dy.size()), b.n * numel(b.layer->out_shape()));

  std::vector<float> y(dy.size(), -7.0f), dx(x.size(), -7.0f);  // poison: all must be written
  b.layer->forward(b.ps, x.data(), y.data(), b.n, Pass{.mode = mode_of(g)});
  EXPECT_TRUE(golden::near("y", y.data(), g.at("y")));
  const json after = g.value("buffers_after", json::object());
  for (const auto& [name, want] : after.items())
    EXPECT_TRUE(golden::near(name + " after the forward", b.ps.value(*b.ps.find(name)), want));

  b.layer->backward(b.ps, x.data(), y.data(), dy.data(), dx.data(), b.n);
  EXPECT_TRUE(golden::near("dx", dx.data(), g.at("dx")));
  for (const auto& [name, want] : g.at("grads").items()) {
    EXPECT_TRUE(golden::near("grad of " + name, b.ps.grad(*b.ps.find(name)), want));
  }
}

// backward ADDS into the grad arena, and dx == nullptr (first layer) still yields the grads.
class ParamLayerGolden : public ::testing::TestWithParam<std::string> {};

TEST_P(ParamLayerGolden, BackwardAccumulatesAndAcceptsNullDx) {
  const json g = golden::load(GetParam());
  ASSERT_FALSE(g.at("grads").empty()) << "a layer case with parameters";
  Bound b;
  ASSERT_NO_FATAL_FAILURE(bind_and_load(g, b));
  const std::vector<float> x = golden::floats(g.at("x"));
  const std::vector<float> dy = golden::floats(g.at("dy"));
  std::vector<float> y(dy.size()), dx(x.size());
  b.layer->forward(b.ps, x.data(), y.data(), b.n, Pass{.mode = mode_of(g)});
  b.layer->backward(b.ps, x.data(), y.data(), dy.data(), dx.data(), b.n);
  b.layer->backward(b.ps, x.data(), y.data(), dy.data(), nullptr, b.n);
  for (const auto& [name, want] : g.at("grads").items()) {
    EXPECT_TRUE(golden::near_scaled("twice-accumulated grad of " + name,
                                    b.ps.grad(*b.ps.find(name)), want, 2.0));
  }
}

// Every layer file of tests/golden (scripts/make_golden.py writes them): a new golden case needs
// no edit here.
const std::vector<std::string> kLayerCases = golden::names_of_kind("layer");

// The cases of layers with parameters: their golden files carry some.
std::vector<std::string> param_layer_cases() {
  std::vector<std::string> out;
  for (const std::string& name : kLayerCases)
    if (!golden::load(name).at("params").empty()) out.push_back(name);
  return out;
}
const std::vector<std::string> kParamLayerCases = param_layer_cases();

INSTANTIATE_TEST_SUITE_P(Golden, LayerGolden, ::testing::ValuesIn(kLayerCases),
                         [](const auto& info) { return info.param; });
INSTANTIATE_TEST_SUITE_P(Golden, ParamLayerGolden, ::testing::ValuesIn(kParamLayerCases),
                         [](const auto& info) { return info.param; });

// A model graph (kind "graph"): its logits and parameter gradients against PyTorch's.
TEST(GraphGolden, JoinsAndFanOutsMatchPyTorch) {
  const std::vector<std::string> cases = golden::names_of_kind("graph");
  ASSERT_FALSE(cases.empty());
  for (const std::string& name : cases) {
    const json g = golden::load(name);
    ModelSpec spec;
    for (const json& l : g.at("layers")) {
      LayerSpec ls = spec_of(l);
      for (const json& in : l.at("inputs")) ls.inputs.push_back(in.get<std::string>());
      spec.layers.push_back(std::move(ls));
    }
    Model m = Model::build(spec, g.at("in_shape").get<Shape>());
    ParamStore ps;
    m.declare(ps);
    ps.finalize();
    for (const auto& [pname, p] : g.at("params").items()) {
      const std::vector<float> data = golden::floats(p.at("data"));
      std::copy(data.begin(), data.end(), ps.value(*ps.find(pname)));
    }
    const int64_t n = g.at("batch").get<int64_t>();
    m.reserve(n);
    const std::vector<float> x = golden::floats(g.at("x")), dy = golden::floats(g.at("dy"));
    EXPECT_TRUE(golden::near(name + " logits", m.forward(ps, x.data(), n, Pass{}), g.at("y")));
    m.backward(ps, x.data(), dy.data(), n);
    for (const auto& [pname, want] : g.at("grads").items())
      EXPECT_TRUE(golden::near(name + " grad of " + pname, ps.grad(*ps.find(pname)), want));
  }
}

TEST(LayerGoldenFiles, TheCasesAreFound) { EXPECT_GE(kLayerCases.size(), 15u); }

// Every registered layer type except dropout (random in training, identity in eval) has one.
TEST(LayerGoldenFiles, EveryRegisteredLayerHasGoldenValues) {
  std::vector<std::string> covered;
  for (const auto& name : kLayerCases) covered.push_back(golden::load(name).at("spec").at("type"));
  for (const auto& name : golden::names_of_kind("graph")) {  // the merge layers
    const json g = golden::load(name);
    for (const json& l : g.at("layers")) covered.push_back(l.at("type"));
  }
  for (const auto& info : layer_registry()) {
    if (info.type == "dropout") continue;
    EXPECT_NE(std::find(covered.begin(), covered.end(), info.type), covered.end())
        << "layer type '" << info.type << "' has no PyTorch golden case in make_golden.py";
  }
}

}  // namespace
}  // namespace sculpt::nn

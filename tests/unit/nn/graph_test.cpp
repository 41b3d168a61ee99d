// Models as graphs: layers that name their inputs, add and concat joins, a layer read by two
// others. The backward of a graph against finite differences of the model's loss, and one clear
// error for each way a graph can be wrong.
#include <gtest/gtest.h>

#include <cmath>
#include <string>

#include "core/error.h"
#include "core/param_store.h"
#include "core/rng.h"
#include "nn/model.h"

namespace sculpt::nn {
namespace {

LayerSpec L(std::string type, std::string name, std::map<std::string, double> args = {},
            std::vector<std::string> inputs = {}) {
  return {std::move(type), std::move(name), std::move(args), std::move(inputs)};
}

// fc1 feeds r1 and cat; r1 feeds fc2 and sum: both fan-outs and both joins.
ModelSpec residual() {
  return {{L("linear", "fc1", {{"out", 6}}), L("relu", "r1"), L("linear", "fc2", {{"out", 6}}),
           L("add", "sum", {}, {"fc2", "r1"}), L("concat", "cat", {}, {"sum", "fc1"}),
           L("tanh", "t1"), L("linear", "fc3", {{"out", 3}})}};
}

double loss(Model& m, ParamStore& ps, const std::vector<float>& x, const std::vector<float>& r,
            int64_t n) {
  const float* y = m.forward(ps, x.data(), n, Pass{.mode = Mode::kTrain});
  double s = 0.0;
  for (size_t i = 0; i < r.size(); ++i) s += double{y[i]} * r[i];
  return s;
}

TEST(ModelGraph, BackwardThroughJoinsAndFanOutsMatchesFiniteDifferences) {
  Model m = Model::build(residual(), {5});
  EXPECT_FALSE(m.is_chain());
  EXPECT_EQ(m.consumers_of(0), 2);
  EXPECT_EQ(m.output_shape(), (Shape{3}));
  ParamStore ps;
  m.declare(ps);
  ps.finalize();
  Rng rng(3);
  m.init(ps, rng);
  const int64_t n = 4;
  m.reserve(n);
  std::vector<float> x(size_t(n * 5)), r(size_t(n * 3));
  for (float& v : x) v = static_cast<float>(rng.uniform(-1, 1));
  for (float& v : r) v = static_cast<float>(rng.uniform(-1, 1));
  loss(m, ps, x, r, n);
  ps.zero_grads();
  m.backward(ps, x.data(), r.data(), n);
  const std::vector<float> analytic(ps.grads().begin(), ps.grads().end());
  // A second step finds the gradient buffers holding the first one's: no stale sums.
  loss(m, ps, x, r, n);
  ps.zero_grads();
  m.backward(ps, x.data(), r.data(), n);
  EXPECT_EQ(analytic, std::vector<float>(ps.grads().begin(), ps.grads().end()));
  for (const ParamEntry& e : ps.entries()) {
    for (int64_t k = 0; k < e.size; ++k) {
      float& w = ps.value(*ps.find(e.name))[k];
      const float keep = w;
      const float h = 1e-2f;
      w = keep + h;
      const double up = loss(m, ps, x, r, n);
      w = keep - h;
      const double down = loss(m, ps, x, r, n);
      w = keep;
      const double numeric = (up - down) / (2.0 * h);
      const double a = analytic[size_t(e.offset + k)];
      EXPECT_NEAR(a, numeric, 2e-3 + 5e-3 * std::max(std::fabs(a), std::fabs(numeric)))
          << e.name << "[" << k << "]";
    }
  }
}

TEST(ModelGraph, APlainListIsAChainAndTheSummaryShowsJoins) {
  Model chain = Model::build({{L("linear", "fc1", {{"out", 4}}), L("relu", "r1")}}, {3});
  EXPECT_TRUE(chain.is_chain());
  EXPECT_TRUE(chain.feeds_next_only(0));
  Model graph = Model::build(residual(), {5});
  ParamStore ps;
  graph.declare(ps);
  const std::string s = graph.summary(ps);
  EXPECT_NE(s.find("<- fc2, r1"), std::string::npos) << s;
  EXPECT_NE(s.find("<- sum, fc1"), std::string::npos) << s;
  EXPECT_FALSE(graph.feeds_next_only(0));
}

// What a user reads for each mistake: the layer, the input and what is wrong.
std::string error_of(const ModelSpec& spec, const Shape& input) {
  try {
    Model::build(spec, input);
  } catch (const Error& e) {
    return e.what();
  }
  return "no error";
}

TEST(ModelGraph, EveryMalformedGraphGetsOneClearError) {
  const auto has = [](const std::string& text, const std::string& part) {
    return text.find(part) != std::string::npos;
  };
  // A cycle: a layer reading one listed after it (or itself).
  EXPECT_TRUE(
      has(error_of({{L("linear", "a", {{"out", 3}}, {"b"}), L("relu", "b", {}, {"a"})}}, {3}),
          "layer 'a' takes input 'b', which comes after it"));
  EXPECT_TRUE(has(error_of({{L("linear", "a", {{"out", 3}}, {"a"})}}, {3}), "a cycle"));
  EXPECT_TRUE(has(error_of({{L("linear", "a", {{"out", 3}}), L("relu", "b", {}, {"c"})}}, {3}),
                  "layer 'b' takes input 'c', which no layer is named"));
  // Shapes that do not join.
  EXPECT_TRUE(
      has(error_of({{L("linear", "a", {{"out", 3}}), L("linear", "b", {{"out", 4}}, {"input"}),
                     L("add", "s", {}, {"a", "b"})}},
                   {3}),
          "layer 's' (add) adds inputs of different shapes: [3], [4]"));
  EXPECT_TRUE(has(error_of({{L("conv2d", "a", {{"out", 2}, {"kernel", 3}}),
                             L("conv2d", "b", {{"out", 2}, {"kernel", 1}}, {"input"}),
                             L("concat", "c", {}, {"a", "b"})}},
                           {1, 5, 5}),
                  "layer 'c' (concat) joins inputs along the first axis"));
  EXPECT_TRUE(
      has(error_of({{L("linear", "a", {{"out", 3}}), L("linear", "b", {{"out", 3}}, {"input"}),
                     L("relu", "r", {}, {"a", "b"})}},
                   {3}),
          "layer 'r' (relu) takes one input, not 2"));
  EXPECT_TRUE(has(error_of({{L("linear", "a", {{"out", 3}}), L("add", "s", {}, {"a"})}}, {3}),
                  "needs at least 2 inputs"));
  EXPECT_TRUE(has(
      error_of({{L("linear", "a", {{"out", 3}}), L("linear", "b", {{"out", 3}}, {"input"})}}, {3}),
      "the output of layer 'a' is read by no layer"));
  EXPECT_TRUE(has(error_of({{L("linear", "input", {{"out", 3}})}}, {3}), "rename it") ||
              has(error_of({{L("linear", "input", {{"out", 3}})}}, {3}), "model input"));
}

}  // namespace
}  // namespace sculpt::nn

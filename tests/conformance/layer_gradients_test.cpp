// Every layer in the registry, in every example configuration it lists: analytic gradients
// match finite differences, and (in eval mode) sample i's output depends only on sample i.
#include <fmt/format.h>
#include <gtest/gtest.h>

#include "core/parallel.h"
#include "core/param_store.h"
#include "nn/gradcheck.h"
#include "nn/registry.h"

namespace sculpt::nn {
namespace {

std::string label(const LayerInfo& info, const LayerExample& ex) {
  std::string s = info.type + " on " + to_string(ex.input);
  for (const auto& [k, v] : ex.args) s += fmt::format(" {}={}", k, v);
  return s;
}

// Merge layers (add, concat) take several inputs: the model-level tests cover them.
bool is_merge(const Layer& l) { return dynamic_cast<const MergeLayer*>(&l) != nullptr; }

TEST(LayerConformance, EveryLayerHasAnExample) {
  for (const auto& info : layer_registry()) EXPECT_FALSE(info.examples.empty()) << info.type;
}

TEST(LayerConformance, GradientsMatchFiniteDifferences) {
  uint64_t seed = 1;
  for (const auto& info : layer_registry()) {
    for (const auto& ex : info.examples) {
      for (int64_t n : {1, 3}) {
        auto layer = make_layer(LayerSpec{info.type, "l1", ex.args});
        if (is_merge(*layer)) continue;  // tests/unit/nn/graph_test.cpp
        const GradCheckResult r = check_layer_gradients(*layer, ex.input, n, seed++);
        EXPECT_TRUE(r.ok) << label(info, ex) << " n=" << n << ": " << r.summary();
        EXPECT_GT(r.checked, 0) << label(info, ex);
      }
    }
  }
}

TEST(LayerConformance, GradCheckerCatchesAWrongGradient) {
  // A layer that claims dx = dy for y = 2x: the checker must fail it.
  class Doubler : public Layer {
   public:
    Doubler() : Layer("bad") {}
    std::string_view kind() const override { return "bad"; }
    std::string describe() const override { return "bad"; }
    Shape bind(const Shape& in) override { return in_ = out_ = in; }
    void forward(ParamStore&, const float* x, float* y, int64_t n, const Pass&) override {
      for (int64_t i = 0; i < n * numel(in_); ++i) y[i] = 2 * x[i];
    }
    void backward(ParamStore&, const float*, const float*, const float* dy, float* dx,
                  int64_t n) override {
      for (int64_t i = 0; i < n * numel(in_); ++i) dx[i] = dy[i];
    }
  } bad;
  EXPECT_FALSE(check_layer_gradients(bad, {4}, 2, 1).ok);
}

TEST(LayerConformance, SamplesAreIndependentInEvalMode) {
  for (const auto& info : layer_registry()) {
    for (const auto& ex : info.examples) {
      auto layer = make_layer(LayerSpec{info.type, "l1", ex.args});
      if (is_merge(*layer)) continue;  // tests/unit/nn/graph_test.cpp
      const Shape out = layer->bind(ex.input);
      ParamStore ps;
      layer->declare(ps);
      ps.finalize();
      Rng rng(5);
      layer->init(ps, rng);
      const int64_t n = 4, in = numel(ex.input), on = numel(out);
      layer->reserve(n);
      std::vector<float> x(size_t(n * in)), y(size_t(n * on)), y2(y.size());
      // Inputs: values, or token ids for a layer that reads them.
      const auto ids = static_cast<uint64_t>(layer->traits().token_ids);
      auto draw = [&](double spread) {
        return ids > 0 ? static_cast<float>(rng.next_u64() % ids)
                       : static_cast<float>(rng.uniform(-spread, spread));
      };
      for (auto& v : x) v = draw(1);
      const Pass pass{.mode = Mode::kEval, .key = 3};
      layer->forward(ps, x.data(), y.data(), n, pass);
      // Change every sample but #2: its output must not move. Then run it alone.
      for (int64_t i = 0; i < n * in; ++i)
        if (i / in != 2) x[size_t(i)] = draw(5);
      layer->forward(ps, x.data(), y2.data(), n, pass);
      std::vector<float> alone(static_cast<size_t>(on));
      layer->forward(ps, x.data() + 2 * in, alone.data(), 1, pass);
      for (int64_t j = 0; j < on; ++j) {
        EXPECT_EQ(y[size_t(2 * on + j)], y2[size_t(2 * on + j)]) << label(info, ex) << " at " << j;
        EXPECT_NEAR(alone[size_t(j)], y[size_t(2 * on + j)], 1e-5) << label(info, ex);
      }
    }
  }
}

// Element-wise layers split their loops across threads above kParallelThreshold values: a batch
// that large must give, bit for bit, what each of its samples gives alone (on one thread).
// Dropout is left out: its mask depends on the position in the batch.
TEST(LayerConformance, ElementwiseLayersGiveEachSampleTheSameBitsInALargeBatch) {
  for (const auto& info : layer_registry()) {
    const LayerExample& ex = info.examples.front();
    auto layer = make_layer(LayerSpec{info.type, "l1", ex.args});
    const LayerTraits t = layer->traits();
    // Dropout's mask depends on the position; merge layers are tested in graph_test.cpp.
    if (!t.elementwise || t.eval_identity || is_merge(*layer)) continue;
    const int64_t width = numel(layer->bind(ex.input));
    const int64_t n = 3 * kParallelThreshold / width + 1;
    ParamStore ps;
    layer->declare(ps);
    ps.finalize();
    layer->reserve(n);
    Rng rng(9);
    std::vector<float> x(size_t(n * width)), dy(x.size()), y(x.size()), dx(x.size());
    for (size_t i = 0; i < x.size(); ++i) {
      x[i] = static_cast<float>(rng.uniform(-6, 6));
      dy[i] = static_cast<float>(rng.uniform(-1, 1));
    }
    const Pass pass{.mode = Mode::kTrain, .key = 3};
    layer->forward(ps, x.data(), y.data(), n, pass);
    layer->backward(ps, x.data(), y.data(), dy.data(), dx.data(), n);
    std::vector<float> y1(static_cast<size_t>(width)), dx1(y1.size());
    for (int64_t s = 0; s < n; s += 97) {  // every 97th sample, across every thread.s range
      const size_t at = size_t(s * width);
      layer->forward(ps, x.data() + at, y1.data(), 1, pass);
      layer->backward(ps, x.data() + at, y1.data(), dy.data() + at, dx1.data(), 1);
      for (int64_t j = 0; j < width; ++j) {
        ASSERT_EQ(y[at + size_t(j)], y1[size_t(j)]) << info.type << " sample " << s;
        ASSERT_EQ(dx[at + size_t(j)], dx1[size_t(j)]) << info.type << " sample " << s;
      }
    }
  }
}

}  // namespace
}  // namespace sculpt::nn

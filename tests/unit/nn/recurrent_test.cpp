// The recurrent layers' carried state (truncated backpropagation through time): consecutive
// windows with the state carried give the outputs of one long sequence, and the gradients of a
// window that starts from a carried state match finite differences with that state held fixed;
// in eval mode with stream_state, one step at a time gives the whole sequence (generation).
// (Zero-state gradients: the registry's finite-difference checks and the PyTorch goldens.)
#include <gtest/gtest.h>

#include <cmath>
#include <string>
#include <vector>

#include "../kernels/random_fill.h"
#include "nn/layers/gru.h"
#include "nn/layers/lstm.h"

namespace sculpt::nn {
namespace {

using sculpt::testing::expect_near_all;
using sculpt::testing::random_vector;

template <class L>
struct BoundRecurrent {
  L layer;
  ParamStore ps;
  BoundRecurrent(int64_t steps, int64_t in, int64_t hidden, int64_t max_batch)
      : layer("rnn1", hidden) {
    layer.bind({steps, in});
    layer.declare(ps);
    ps.finalize();
    layer.reserve(max_batch);
  }
};

// Steps [part * len, (part + 1) * len) of each sample of x [n, steps, in]: [n, len, in].
std::vector<float> window(const std::vector<float>& x, int64_t n, int64_t steps, int64_t in,
                          int64_t part, int64_t len) {
  std::vector<float> out;
  for (int64_t s = 0; s < n; ++s) {
    const auto* from = x.data() + (s * steps + part * len) * in;
    out.insert(out.end(), from, from + len * in);
  }
  return out;
}

template <class L>
class RecurrentLayer : public ::testing::Test {};
using RecurrentLayers = ::testing::Types<Lstm, Gru>;
TYPED_TEST_SUITE(RecurrentLayer, RecurrentLayers);

TYPED_TEST(RecurrentLayer, CarriedStateContinuesTheSequence) {
  constexpr int64_t n = 2, T = 6, I = 3, H = 5, half = T / 2;
  BoundRecurrent<TypeParam> whole(T, I, H, n), parts(half, I, H, n);
  Rng rng(5);
  whole.layer.init(whole.ps, rng);
  std::copy(whole.ps.values().begin(), whole.ps.values().end(), parts.ps.values().begin());
  const auto x = random_vector(n * T * I, rng, -2.0, 2.0);
  std::vector<float> y(n * T * H);
  whole.layer.forward(whole.ps, x.data(), y.data(), n, {Mode::kEval});

  parts.layer.carry_state(true);
  parts.layer.reset_state();
  for (int64_t p = 0; p < 2; ++p) {
    const auto xp = window(x, n, T, I, p, half);
    std::vector<float> yp(n * half * H);
    parts.layer.forward(parts.ps, xp.data(), yp.data(), n, {Mode::kTrain});
    expect_near_all(yp, window(y, n, T, H, p, half), 1e-6, 1e-5, "window " + std::to_string(p));
  }
  // Without carrying, the second window starts from zero and differs.
  parts.layer.carry_state(false);
  const auto x1 = window(x, n, T, I, 1, half);
  std::vector<float> y1(n * half * H);
  parts.layer.forward(parts.ps, x1.data(), y1.data(), n, {Mode::kTrain});
  EXPECT_GT(std::fabs(y1[0] - window(y, n, T, H, 1, half)[0]), 1e-4);
}

// Generation: eval forwards of one step each, the state streamed from one to the next, give
// the outputs of the whole sequence; reset_state starts again from zero, and a training batch
// (carry_state off) still starts from zero.
TYPED_TEST(RecurrentLayer, StreamedEvalStateRunsTheSequenceOneStepAtATime) {
  constexpr int64_t n = 2, T = 5, I = 3, H = 4;
  BoundRecurrent<TypeParam> whole(T, I, H, n), step(1, I, H, n);
  Rng rng(11);
  whole.layer.init(whole.ps, rng);
  std::copy(whole.ps.values().begin(), whole.ps.values().end(), step.ps.values().begin());
  const auto x = random_vector(n * T * I, rng, -2.0, 2.0);
  std::vector<float> y(n * T * H), yt(n * H);
  whole.layer.forward(whole.ps, x.data(), y.data(), n, {Mode::kEval});
  step.layer.stream_state(true);
  for (int pass = 0; pass < 2; ++pass) {
    step.layer.reset_state();
    for (int64_t t = 0; t < T; ++t) {
      const auto xt = window(x, n, T, I, t, 1);
      step.layer.forward(step.ps, xt.data(), yt.data(), n, {Mode::kEval});
      expect_near_all(yt, window(y, n, T, H, t, 1), 1e-6, 1e-5, "step " + std::to_string(t));
    }
  }
  const auto x0 = window(x, n, T, I, 0, 1);
  step.layer.forward(step.ps, x0.data(), yt.data(), n, {Mode::kTrain});
  expect_near_all(yt, window(y, n, T, H, 0, 1), 1e-6, 1e-5, "a training batch");
  // Off again: every eval forward starts from zero.
  step.layer.stream_state(false);
  const auto x1 = window(x, n, T, I, 1, 1);
  std::vector<float> fresh(n * H), again(n * H);
  step.layer.forward(step.ps, x1.data(), fresh.data(), n, {Mode::kEval});
  step.layer.forward(step.ps, x1.data(), again.data(), n, {Mode::kEval});
  EXPECT_EQ(fresh, again);
  EXPECT_GT(std::fabs(fresh[0] - window(y, n, T, H, 1, 1)[0]), 1e-4);
}

// A gate product (what src/infer supplies for pruned gate matrices) replaces both GEMMs of a
// one-sample, one-step forward: here a plain matrix-vector loop that counts its calls.
struct CountingProduct final : GateProduct {
  const float* w;
  int64_t rows, cols;
  mutable int calls = 0;
  CountingProduct(const float* w, int64_t rows, int64_t cols) : w(w), rows(rows), cols(cols) {}
  void add_product(const float* x, float* a) const override {
    ++calls;
    for (int64_t r = 0; r < rows; ++r)
      for (int64_t c = 0; c < cols; ++c) a[r] += w[r * cols + c] * x[c];
  }
};

TYPED_TEST(RecurrentLayer, GateProductsReplaceTheGemmsOfOneStep) {
  constexpr int64_t T = 4, I = 3, H = 5;
  BoundRecurrent<TypeParam> whole(T, I, H, 1), step(1, I, H, 1);
  Rng rng(13);
  whole.layer.init(whole.ps, rng);
  std::copy(whole.ps.values().begin(), whole.ps.values().end(), step.ps.values().begin());
  const auto x = random_vector(T * I, rng, -2.0, 2.0);
  std::vector<float> y(T * H), yt(H);
  whole.layer.forward(whole.ps, x.data(), y.data(), 1, {Mode::kEval});
  const int64_t g = step.ps.entry(0).shape[0];
  const CountingProduct ih(step.ps.value(0), g, I), hh(step.ps.value(1), g, H);
  step.layer.set_gate_products(&ih, &hh);
  step.layer.stream_state(true);
  step.layer.reset_state();
  for (int64_t t = 0; t < T; ++t) {
    step.layer.forward(step.ps, x.data() + t * I, yt.data(), 1, {Mode::kEval});
    expect_near_all(yt, window(y, 1, T, H, t, 1), 1e-6, 1e-5, "step " + std::to_string(t));
  }
  EXPECT_EQ(ih.calls, T);
  EXPECT_EQ(hh.calls, T);  // the first step too: the streamed state is zero, not skipped
}

TYPED_TEST(RecurrentLayer, GradientsFromACarriedStateMatchFiniteDifferences) {
  constexpr int64_t n = 2, T = 3, I = 3, H = 2;
  BoundRecurrent<TypeParam> b(T, I, H, n);
  Rng rng(9);
  b.layer.init(b.ps, rng);
  b.layer.carry_state(true);
  // h (and, for an LSTM, c) of each sample.
  const int64_t parts = std::string(b.layer.kind()) == "lstm" ? 2 : 1;
  const auto state = random_vector(n * parts * H, rng);
  const auto x = random_vector(n * T * I, rng, -2.0, 2.0);
  const auto r = random_vector(n * T * H, rng);
  std::vector<float> y(n * T * H), dx(x.size());
  auto loss = [&] {
    b.layer.set_state(state.data(), n);
    b.layer.forward(b.ps, x.data(), y.data(), n, {Mode::kTrain});
    double l = 0.0;
    for (size_t k = 0; k < y.size(); ++k) l += double{y[k]} * r[k];
    return l;
  };
  loss();
  b.ps.zero_grads();
  b.layer.backward(b.ps, x.data(), y.data(), r.data(), dx.data(), n);
  const std::vector<float> analytic(b.ps.grads().begin(), b.ps.grads().end());
  const float h = 1e-2f;
  for (size_t k = 0; k < analytic.size(); ++k) {
    float& w = b.ps.values()[k];
    const float keep = w;
    w = keep + h;
    const double up = loss();
    w = keep - h;
    const double down = loss();
    w = keep;
    const double numeric = (up - down) / (2.0 * h);
    EXPECT_NEAR(analytic[k], numeric, 1e-3 + 5e-3 * std::fabs(numeric)) << "parameter " << k;
  }
}

}  // namespace
}  // namespace sculpt::nn

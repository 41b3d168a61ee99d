// Element-wise activations: one layer class, Activation<Op>, and one small Op per function.
// An Op names the layer (kind for recipes, title for summaries), states its traits and gives
// two element functions, which Activation runs over the batch (vectorised, split across threads
// above kParallelThreshold):
//   value(x)          y
//   grad(x, y, dy)    dx, from whichever of x and y is cheaper
// An Op with an argument (LeakyReLU's slope) holds it as a member, from the registry's factory.
//   ReLU:      y = max(x, 0);               dx = dy * [y > 0]
//   LeakyReLU: y = x > 0 ? x : a x;         dx = dy * (x > 0 ? 1 : a)        (torch's rule)
//   Tanh:      y = tanh(x);                 dx = dy * (1 - y^2)
//   Sigmoid:   y = 1 / (1 + exp(-x));       dx = dy * y * (1 - y)
//   SiLU:      y = x * s(x), s logistic;    dx = dy * s * (1 + x * (1 - s))
//   GELU:      y = x * Phi(x), Phi the standard normal CDF (torch's exact form, not the tanh
//              approximation);              dx = dy * (Phi(x) + x * phi(x))
// A new activation is one Op here, one registry row and one golden case (docs/extending.md).
#pragma once

#include <cmath>

#include "core/parallel.h"
#include "nn/layers/shape_preserving.h"

namespace sculpt::nn {

template <class Op>
class Activation final : public ShapePreserving {
 public:
  explicit Activation(std::string name, Op op = {})
      : ShapePreserving(std::move(name), Op::kTitle), op_(op) {}
  std::string_view kind() const override { return Op::kKind; }
  LayerTraits traits() const override { return Op::kTraits; }
  void forward(ParamStore&, const float* x, float* y, int64_t n, const Pass&) override {
    const Op op = op_;
    for_range(n * width(), [=](int64_t b, int64_t e) {
      for (int64_t i = b; i < e; ++i) y[i] = op.value(x[i]);
    });
  }
  void backward(ParamStore&, const float* x, const float* y, const float* dy, float* dx,
                int64_t n) override {
    if (!dx) return;
    const Op op = op_;
    for_range(n * width(), [=](int64_t b, int64_t e) {
      for (int64_t i = b; i < e; ++i) dx[i] = op.grad(x[i], y[i], dy[i]);
    });
  }

 private:
  Op op_;
};

// Channel-keeping and element-wise: what every activation here is.
inline constexpr LayerTraits kPointwise{.keeps_channels = true, .elementwise = true};

struct ReluOp {
  static constexpr const char* kKind = "relu";
  static constexpr const char* kTitle = "ReLU";
  static constexpr LayerTraits kTraits{.keeps_channels = true, .elementwise = true, .relu = true};
  static float value(float x) { return x > 0.0f ? x : 0.0f; }
  // Both operands read unconditionally, so the loop if-converts into a vector select.
  static float grad(float, float y, float dy) { return y > 0.0f ? dy : 0.0f; }
};

struct LeakyReluOp {
  static constexpr const char* kKind = "leakyrelu";
  static constexpr const char* kTitle = "LeakyReLU";
  static constexpr LayerTraits kTraits = kPointwise;
  float slope = 0.01f;  // torch's negative_slope default
  float value(float x) const { return x > 0.0f ? x : slope * x; }
  float grad(float x, float, float dy) const { return x > 0.0f ? dy : slope * dy; }
};

struct TanhOp {
  static constexpr const char* kKind = "tanh";
  static constexpr const char* kTitle = "Tanh";
  static constexpr LayerTraits kTraits = kPointwise;
  static float value(float x) { return std::tanh(x); }
  static float grad(float, float y, float dy) { return dy * (1.0f - y * y); }
};

// 1 / (1 + exp(-x)): exp overflows to inf for x < -88 and the quotient is then exactly 0.
inline float logistic(float x) { return 1.0f / (1.0f + std::exp(-x)); }

struct SigmoidOp {
  static constexpr const char* kKind = "sigmoid";
  static constexpr const char* kTitle = "Sigmoid";
  static constexpr LayerTraits kTraits = kPointwise;
  static float value(float x) { return logistic(x); }
  static float grad(float, float y, float dy) { return dy * y * (1.0f - y); }
};

struct SiluOp {
  static constexpr const char* kKind = "silu";
  static constexpr const char* kTitle = "SiLU";
  static constexpr LayerTraits kTraits = kPointwise;
  static float value(float x) { return x * logistic(x); }
  static float grad(float x, float, float dy) {
    const float s = logistic(x);
    return dy * s * (1.0f + x * (1.0f - s));
  }
};

struct GeluOp {
  static constexpr const char* kKind = "gelu";
  static constexpr const char* kTitle = "GELU";
  static constexpr LayerTraits kTraits = kPointwise;
  static float cdf(float x) { return 0.5f * (1.0f + std::erf(x * 0.70710678118654752f)); }
  static float value(float x) { return x * cdf(x); }
  static float grad(float x, float, float dy) {
    const float pdf = 0.39894228040143268f * std::exp(-0.5f * x * x);  // 1/sqrt(2 pi) e^(-x²/2)
    return dy * (cdf(x) + x * pdf);
  }
};

using ReLU = Activation<ReluOp>;
using LeakyReLU = Activation<LeakyReluOp>;
using Tanh = Activation<TanhOp>;
using Sigmoid = Activation<SigmoidOp>;
using SiLU = Activation<SiluOp>;
using GELU = Activation<GeluOp>;

}  // namespace sculpt::nn

// Element-wise activations: one layer class, Activation<Op>, and one small Op per function.
// An Op names the layer (kind for recipes, title for summaries), states its traits and runs
// forward and backward over `count` values; backward is called only when dx is wanted.
//   ReLU:    y = max(x, 0);            dx = dy * [y > 0]        (from y)
//   Tanh:    y = tanh(x);              dx = dy * (1 - y^2)      (from y)
//   Sigmoid: y = 1 / (1 + exp(-x));    dx = dy * y * (1 - y)    (from y)
//   SiLU:    y = x * s(x), s logistic; dx = dy * s * (1 + x * (1 - s))  (s recomputed from x)
// A new activation is one Op here (its kernels in activations.cpp), one registry row and one
// golden case (docs/extending.md).
#pragma once

#include "nn/layers/shape_preserving.h"

namespace sculpt::nn {

template <class Op>
class Activation final : public ShapePreserving {
 public:
  explicit Activation(std::string name) : ShapePreserving(std::move(name), Op::kTitle) {}
  std::string_view kind() const override { return Op::kKind; }
  LayerTraits traits() const override { return Op::kTraits; }
  void forward(ParamStore&, const float* x, float* y, int64_t n, const Pass&) override {
    Op::forward(x, y, n * width());
  }
  void backward(ParamStore&, const float* x, const float* y, const float* dy, float* dx,
                int64_t n) override {
    if (dx) Op::backward(x, y, dy, dx, n * width());
  }
};

struct ReluOp {
  static constexpr const char* kKind = "relu";
  static constexpr const char* kTitle = "ReLU";
  static constexpr LayerTraits kTraits{.keeps_channels = true, .elementwise = true, .relu = true};
  static void forward(const float* x, float* y, int64_t count);
  static void backward(const float* x, const float* y, const float* dy, float* dx, int64_t count);
};

struct TanhOp {
  static constexpr const char* kKind = "tanh";
  static constexpr const char* kTitle = "Tanh";
  static constexpr LayerTraits kTraits{.keeps_channels = true, .elementwise = true};
  static void forward(const float* x, float* y, int64_t count);
  static void backward(const float* x, const float* y, const float* dy, float* dx, int64_t count);
};

struct SigmoidOp {
  static constexpr const char* kKind = "sigmoid";
  static constexpr const char* kTitle = "Sigmoid";
  static constexpr LayerTraits kTraits{.keeps_channels = true, .elementwise = true};
  static void forward(const float* x, float* y, int64_t count);
  static void backward(const float* x, const float* y, const float* dy, float* dx, int64_t count);
};

struct SiluOp {
  static constexpr const char* kKind = "silu";
  static constexpr const char* kTitle = "SiLU";
  static constexpr LayerTraits kTraits{.keeps_channels = true, .elementwise = true};
  static void forward(const float* x, float* y, int64_t count);
  static void backward(const float* x, const float* y, const float* dy, float* dx, int64_t count);
};

using ReLU = Activation<ReluOp>;
using Tanh = Activation<TanhOp>;
using Sigmoid = Activation<SigmoidOp>;
using SiLU = Activation<SiluOp>;

}  // namespace sculpt::nn

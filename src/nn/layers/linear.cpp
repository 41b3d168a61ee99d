// Linear: three sgemm calls (forward, dW, dx) plus a bias pass each way (with a fused ReLU).
#include "nn/layers/linear.h"

#include <fmt/format.h>

#include "core/error.h"
#include "core/limits.h"
#include "kernels/elementwise.h"
#include "kernels/gemm.h"
#include "kernels/gemm_bf16.h"
#include "nn/layers/init.h"

namespace sculpt::nn {

Linear::Linear(std::string name, int64_t out_features, int64_t in_features)
    : Layer(std::move(name)), out_features_(out_features), in_features_(in_features) {}

std::string Linear::describe() const {
  return fmt::format("{} Linear({} -> {})", name(), in_features_, out_features_);
}

Shape Linear::bind(const Shape& in) {
  SCULPT_CHECK(in.size() == 1 || in.size() == 2, ShapeError,
               fmt::format("layer '{}' (linear) expects a flat input [features] or a sequence "
                           "[steps, features] but receives {}",
                           name(), to_string(in)),
               "", "insert a flatten layer before it");
  const int64_t features = in.back();
  SCULPT_CHECK(in_features_ == 0 || features == in_features_, ShapeError,
               fmt::format("layer '{}' (linear) expects {} input features but receives {}", name(),
                           in_features_, to_string(in)),
               "", "check the previous layer's output size, or drop the 'in' argument");
  in_features_ = features;
  positions_ = in.size() == 2 ? in[0] : 1;
  in_ = in;
  out_ = in.size() == 2 ? Shape{in[0], out_features_} : Shape{out_features_};
  return out_;
}

void Linear::declare(ParamStore& ps) {
  weight_ = ps.add(name() + ".weight", {out_features_, in_features_});
  bias_ = ps.add(name() + ".bias", {out_features_}, {.decays = false, .prunable = false});
}

void Linear::init(ParamStore& ps, Rng& rng) {
  init_uniform_fan_in(ps.value(weight_), out_features_ * in_features_, in_features_, rng);
  init_uniform_fan_in(ps.value(bias_), out_features_, in_features_, rng);
}

void Linear::reserve(int64_t max_batch) {
  const auto rows = static_cast<size_t>(max_batch * positions_);
  dmasked_.assign(relu_ ? rows * static_cast<size_t>(out_features_) : 0, 0.0f);
  xb_.assign(bf16_ ? rows * static_cast<size_t>(in_features_) : 0, 0);
  wb_.assign(bf16_ ? static_cast<size_t>(out_features_ * in_features_) : 0, 0);
  dyb_.assign(bf16_ ? rows * static_cast<size_t>(out_features_) : 0, 0);
}

int64_t Linear::scratch_floats(int64_t max_batch, int) const {
  const int64_t rows = mul_sat(max_batch, positions_);
  const int64_t masked = relu_ ? mul_sat(rows, out_features_) : 0;
  // bf16 copies: two to a float.
  const int64_t halves = bf16_ ? add_sat(mul_sat(rows, add_sat(in_features_, out_features_)),
                                         mul_sat(out_features_, in_features_))
                               : 0;
  return add_sat(masked, halves / 2 + halves % 2);
}

std::string Linear::bf16_path(int64_t samples) const {
  const int64_t n = samples * positions_;
  return kernels::gemm_bf16_implementation(false, true, n, out_features_, in_features_,
                                           in_features_, in_features_, out_features_);
}

void Linear::product(ParamStore& ps, const float* x, float* y, int64_t n) {
  if (!bf16_) {
    kernels::gemm(/*trans_a=*/false, /*trans_b=*/true, n, out_features_, in_features_, 1.0f, x,
                  in_features_, ps.value(weight_), in_features_, 0.0f, y, out_features_);
    return;
  }
  kernels::to_bf16(x, n * in_features_, xb_.data());
  kernels::to_bf16(ps.value(weight_), out_features_ * in_features_, wb_.data());
  kernels::gemm_bf16(false, true, n, out_features_, in_features_, xb_.data(), in_features_,
                     wb_.data(), in_features_, /*accumulate=*/false, y, out_features_);
}

void Linear::product_backward(ParamStore& ps, const float* x, const float* dy, float* dx,
                              int64_t n) {
  if (!bf16_) {
    // dW [out, in] += dy^T [out, n] x [n, in]; dx [n, in] = dy [n, out] W [out, in]
    kernels::gemm(/*trans_a=*/true, /*trans_b=*/false, out_features_, in_features_, n, 1.0f, dy,
                  out_features_, x, in_features_, 1.0f, ps.grad(weight_), in_features_);
    if (dx)
      kernels::gemm(/*trans_a=*/false, /*trans_b=*/false, n, in_features_, out_features_, 1.0f, dy,
                    out_features_, ps.value(weight_), in_features_, 0.0f, dx, in_features_);
    return;
  }
  kernels::to_bf16(dy, n * out_features_, dyb_.data());  // x and W: as the forward rounded them
  kernels::gemm_bf16(true, false, out_features_, in_features_, n, dyb_.data(), out_features_,
                     xb_.data(), in_features_, /*accumulate=*/true, ps.grad(weight_), in_features_);
  if (dx)
    kernels::gemm_bf16(false, false, n, in_features_, out_features_, dyb_.data(), out_features_,
                       wb_.data(), in_features_, /*accumulate=*/false, dx, in_features_);
}

void Linear::forward(ParamStore& ps, const float* x, float* y, int64_t samples, const Pass&) {
  const int64_t n = samples * positions_;  // rows
  // y = x W^T, then the bias (and the fused ReLU) in one pass: the same bits either way.
  product(ps, x, y, n);
  if (relu_) {
    kernels::add_rows_relu(y, ps.value(bias_), n, out_features_);
  } else {
    kernels::add_rows(y, ps.value(bias_), n, out_features_);
  }
}

void Linear::backward(ParamStore& ps, const float* x, const float* y, const float* dy, float* dx,
                      int64_t samples) {
  const int64_t n = samples * positions_;  // rows
  if (relu_) {                             // dY of the product: where the fused ReLU passed
    kernels::relu_backward_column_sums(dy, y, n, out_features_, dmasked_.data(), ps.grad(bias_));
    dy = dmasked_.data();
  } else {
    kernels::column_sums_add(dy, n, out_features_, ps.grad(bias_));
  }
  product_backward(ps, x, dy, dx, n);
}

}  // namespace sculpt::nn

// Conv2d forward/backward: per image, y_i = W col(x_i) + b; dW += dy_i col(x_i)^T;
// dx_i = col2im(W^T dy_i). Images are split statically over threads; each thread owns a column
// buffer, and threads other than 0 own dW/db partials that are added in thread order at the end.
#include "nn/layers/conv2d.h"

#include <fmt/format.h>
#include <omp.h>

#include <algorithm>
#include <cstring>

#include "core/error.h"
#include "kernels/gemm.h"
#include "nn/layers/image_input.h"
#include "nn/layers/init.h"

namespace sculpt::nn {

Conv2d::Conv2d(std::string name, int64_t out_channels, int64_t kernel, int64_t stride,
               int64_t padding)
    : Layer(std::move(name)),
      out_c_(out_channels),
      kernel_(kernel),
      stride_(stride),
      padding_(padding) {}

std::string Conv2d::describe() const {
  return fmt::format("{} Conv2d({} -> {}, kernel {}, stride {}, padding {})", name(), g_.c, out_c_,
                     kernel_, stride_, padding_);
}

Shape Conv2d::bind(const Shape& in) {
  require_image(*this, in, "conv2d needs images: give the data its [C, H, W] shape, or use linear");
  g_ = {.c = in[0],
        .h = in[1],
        .w = in[2],
        .kh = kernel_,
        .kw = kernel_,
        .stride = stride_,
        .pad = padding_};
  SCULPT_CHECK(in[1] + 2 * padding_ >= kernel_ && in[2] + 2 * padding_ >= kernel_, ShapeError,
               fmt::format("layer '{}' (conv2d) has kernel {} but receives {} (padding {}): the "
                           "kernel does not fit",
                           name(), kernel_, to_string(in), padding_),
               "", "use a smaller kernel, add padding, or remove a pooling layer before it");
  in_ = in;
  out_ = {out_c_, g_.oh(), g_.ow()};
  return out_;
}

void Conv2d::declare(ParamStore& ps) {
  weight_ = ps.add(name() + ".weight", {out_c_, g_.c, kernel_, kernel_});
  bias_ = ps.add(name() + ".bias", {out_c_}, {.decays = false, .prunable = false});
}

void Conv2d::init(ParamStore& ps, Rng& rng) {
  const int64_t fan_in = g_.col_rows();
  init_uniform_fan_in(ps.value(weight_), out_c_ * fan_in, fan_in, rng);
  init_uniform_fan_in(ps.value(bias_), out_c_, fan_in, rng);
}

int64_t Conv2d::scratch_floats(int64_t, int threads) const {
  const int64_t t = std::max(1, threads);
  const int64_t col = mul_sat(t, mul_sat(g_.col_rows(), g_.col_cols()));
  const int64_t parts = mul_sat(t - 1, add_sat(mul_sat(out_c_, g_.col_rows()), out_c_));
  return add_sat(col, parts);
}

void Conv2d::reserve(int64_t) {
  threads_ = std::max(1, omp_get_max_threads());
  col_.assign(static_cast<size_t>(threads_ * g_.col_rows() * g_.col_cols()), 0.0f);
  dw_part_.assign(static_cast<size_t>((threads_ - 1) * out_c_ * g_.col_rows()), 0.0f);
  db_part_.assign(static_cast<size_t>((threads_ - 1) * out_c_), 0.0f);
}

int Conv2d::threads_for(int64_t n) const {
  if (omp_in_parallel()) return 1;
  const int t = std::min<int64_t>({threads_, omp_get_max_threads(), n});
  return std::max(1, t);
}

void Conv2d::forward(ParamStore& ps, const float* x, float* y, int64_t n, const Pass&) {
  SCULPT_CHECK(threads_ > 0, ConfigError,
               fmt::format("layer '{}' (conv2d): forward before reserve()", name()));
  const int64_t in_sz = g_.c * g_.h * g_.w, ohw = g_.col_cols(), ckk = g_.col_rows();
  const int64_t out_sz = out_c_ * ohw, col_sz = ckk * ohw;
  const float* w = ps.value(weight_);
  const float* b = ps.value(bias_);
  auto image = [&](int64_t i, float* col) {
    float* yi = y + i * out_sz;
    for (int64_t oc = 0; oc < out_c_; ++oc) std::fill_n(yi + oc * ohw, ohw, b[oc]);
    const float* cols = x + i * in_sz;
    if (!direct()) {
      kernels::im2col(cols, g_, col);
      cols = col;
    }
    kernels::gemm(false, false, out_c_, ohw, ckk, 1.0f, w, ckk, cols, ohw, 1.0f, yi, ohw);
  };
  const int nt = threads_for(n);
  if (nt == 1) {
    // No parallel construct: a one-thread region would make the gemm's own region a nested
    // one, whose threads libgomp creates afresh every call (batch-1 inference was 3x slower).
    for (int64_t i = 0; i < n; ++i) image(i, col_.data());
    return;
  }
#pragma omp parallel num_threads(nt)
  {
    float* col = col_.data() + omp_get_thread_num() * col_sz;
#pragma omp for schedule(static)
    for (int64_t i = 0; i < n; ++i) image(i, col);
  }
}

void Conv2d::backward(ParamStore& ps, const float* x, const float*, const float* dy, float* dx,
                      int64_t n) {
  const int64_t in_sz = g_.c * g_.h * g_.w, ohw = g_.col_cols(), ckk = g_.col_rows();
  const int64_t out_sz = out_c_ * ohw, col_sz = ckk * ohw, w_sz = out_c_ * ckk;
  const float* w = ps.value(weight_);
  const int nt = threads_for(n);
  if (nt > 1) {
    std::fill_n(dw_part_.data(), (nt - 1) * w_sz, 0.0f);
    std::fill_n(db_part_.data(), (nt - 1) * out_c_, 0.0f);
  }
  auto image = [&](int64_t i, float* col, float* dw, float* db) {
    const float* dyi = dy + i * out_sz;
    const float* cols = x + i * in_sz;
    if (!direct()) {
      kernels::im2col(cols, g_, col);
      cols = col;
    }
    // dW [out_c, ckk] += dy_i [out_c, ohw] cols^T [ohw, ckk]
    kernels::gemm(false, true, out_c_, ckk, ohw, 1.0f, dyi, ohw, cols, ohw, 1.0f, dw, ckk);
    for (int64_t oc = 0; oc < out_c_; ++oc) {
      float s = 0.0f;
      for (int64_t p = 0; p < ohw; ++p) s += dyi[oc * ohw + p];
      db[oc] += s;
    }
    if (dx) {
      // dcol [ckk, ohw] = W^T [ckk, out_c] dy_i [out_c, ohw], then scattered back.
      float* dxi = dx + i * in_sz;
      float* dcol = direct() ? dxi : col;
      kernels::gemm(true, false, ckk, ohw, out_c_, 1.0f, w, ckk, dyi, ohw, 0.0f, dcol, ohw);
      if (!direct()) kernels::col2im(dcol, g_, dxi);
    }
  };
  if (nt == 1) {  // no parallel construct: see forward()
    for (int64_t i = 0; i < n; ++i) image(i, col_.data(), ps.grad(weight_), ps.grad(bias_));
    return;
  }
#pragma omp parallel num_threads(nt)
  {
    const int t = omp_get_thread_num();
    float* col = col_.data() + t * col_sz;
    float* dw = t == 0 ? ps.grad(weight_) : dw_part_.data() + (t - 1) * w_sz;
    float* db = t == 0 ? ps.grad(bias_) : db_part_.data() + (t - 1) * out_c_;
#pragma omp for schedule(static)
    for (int64_t i = 0; i < n; ++i) image(i, col, dw, db);
  }
  float* gw = ps.grad(weight_);
  float* gb = ps.grad(bias_);
  for (int t = 1; t < nt; ++t) {
    const float* pw = dw_part_.data() + (t - 1) * w_sz;
    const float* pb = db_part_.data() + (t - 1) * out_c_;
    for (int64_t j = 0; j < w_sz; ++j) gw[j] += pw[j];
    for (int64_t j = 0; j < out_c_; ++j) gb[j] += pb[j];
  }
}

}  // namespace sculpt::nn

// Conv2d forward/backward over chunks of images: Y = W col(X) + b; dW += dY col(X)^T;
// dX = col2im(W^T dY), where col(X) holds the chunk's column matrices side by side, so that a
// small map still makes a wide GEMM. Chunks are split statically over threads; each thread owns
// its column and output buffers, and threads other than 0 own dW/db partials that are added in
// thread order at the end.
#include "nn/layers/conv2d.h"

#include <fmt/format.h>
#include <omp.h>

#include <algorithm>
#include <cstring>
#include <limits>

#include "core/error.h"
#include "kernels/gemm.h"
#include "kernels/pooling.h"
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

std::string Conv2d::path() const {
  if (direct_) return "direct";
  return dnnl_ ? "oneDNN " + dnnl_->implementation() : std::string("im2col + gemm");
}

int64_t Conv2d::group() const {
  const int64_t ohw = g_.col_cols();
  return std::max<int64_t>(1, (kGemmColumns + ohw - 1) / ohw);
}

bool Conv2d::fuse_maxpool(const kernels::PoolGeometry* pool) {
  pool_.reset();
  const bool two = pool && pool->k == 2 && pool->stride == 2 && pool->pad == 0;
  const bool onednn = !reference_ && !kernels::DirectConv::preferred(g_) &&
                      kernels::DnnlConv::preferred(g_, out_c_) && out_c_ % 16 == 0;
  if (two && onednn && relu_) pool_ = *pool;
  return pool_.has_value();
}

int64_t Conv2d::scratch_floats(int64_t max_batch, int threads) const {
  return add_sat(path_scratch_floats(max_batch, threads),
                 pool_ ? mul_sat(3 * max_batch, numel(out_)) : 0);  // pools_here()'s buffers
}

int64_t Conv2d::path_scratch_floats(int64_t max_batch, int threads) const {
  if (!reference_ && kernels::DirectConv::preferred(g_))
    return kernels::DirectConv::scratch_floats(g_, out_c_, threads);
  if (!reference_ && kernels::DnnlConv::preferred(g_, out_c_))
    return kernels::DnnlConv::scratch_floats(g_, out_c_, max_batch);
  const int64_t t = std::max(1, threads), cols = mul_sat(group(), g_.col_cols());
  const int64_t col = mul_sat(t, mul_sat(add_sat(g_.col_rows(), out_c_), cols));
  const int64_t parts = mul_sat(t - 1, add_sat(mul_sat(out_c_, g_.col_rows()), out_c_));
  return add_sat(col, parts);
}

void Conv2d::reserve(int64_t max_batch) {
  threads_ = std::max(1, omp_get_max_threads());
  dnnl_.reset();
  direct_.reset();
  if (!reference_ && kernels::DirectConv::preferred(g_)) {
    direct_ = std::make_unique<kernels::DirectConv>(g_, out_c_, threads_, relu_);
  } else if (!reference_ && kernels::DnnlConv::preferred(g_, out_c_)) {
    try {
      dnnl_ = std::make_unique<kernels::DnnlConv>(g_, out_c_, max_batch, relu_, pool_.has_value());
    } catch (const Error&) {  // only oneDNN's reference implementation: im2col is faster
    }
  }
  const size_t pooled_here = pools_here() ? static_cast<size_t>(max_batch * numel(out_)) : 0;
  conv_y_.assign(pooled_here, 0.0f);
  conv_dy_.assign(pooled_here, 0.0f);
  pool_arg_.assign(
      pooled_here ? static_cast<size_t>(max_batch * out_c_ * pool_->oh() * pool_->ow()) : 0, 0);
  if (dnnl_ || direct_) {
    col_ = {};
    out_buf_ = {};
    dw_part_ = {};
    db_part_ = {};
    return;
  }
  const int64_t cols = group() * g_.col_cols();
  col_.assign(static_cast<size_t>(threads_ * g_.col_rows() * cols), 0.0f);
  out_buf_.assign(static_cast<size_t>(threads_ * out_c_ * cols), 0.0f);
  dw_part_.assign(static_cast<size_t>((threads_ - 1) * out_c_ * g_.col_rows()), 0.0f);
  db_part_.assign(static_cast<size_t>((threads_ - 1) * out_c_), 0.0f);
}

int Conv2d::threads_for(int64_t n) const {
  if (omp_in_parallel()) return 1;
  const int t = std::min<int64_t>({threads_, omp_get_max_threads(), n});
  return std::max(1, t);
}

const float* Conv2d::columns(const float* x, int64_t first, int64_t count, float* col) const {
  const int64_t in_sz = g_.c * g_.h * g_.w, ohw = g_.col_cols();
  if (count == 1 && direct()) return x + first * in_sz;
  for (int64_t j = 0; j < count; ++j)
    kernels::im2col(x + (first + j) * in_sz, g_, col + j * ohw, count * ohw);
  return col;
}

template <class Chunk>
void Conv2d::for_chunks(int64_t n, Chunk&& chunk) {
  const int64_t per = group(), chunks = (n + per - 1) / per;
  const int64_t cols = per * g_.col_cols();
  const int nt = threads_for(chunks);
  auto run = [&](int64_t c, int t) {
    const int64_t first = c * per;
    chunk(first, std::min(per, n - first), t, col_.data() + t * g_.col_rows() * cols,
          out_buf_.data() + t * out_c_ * cols);
  };
  if (nt == 1) {
    // No parallel construct: a one-thread region would make the gemm's own region a nested
    // one, whose threads libgomp creates afresh every call (batch-1 inference was 3x slower).
    for (int64_t c = 0; c < chunks; ++c) run(c, 0);
    return;
  }
#pragma omp parallel num_threads(nt)
  {
    const int t = omp_get_thread_num();
#pragma omp for schedule(static)
    for (int64_t c = 0; c < chunks; ++c) run(c, t);
  }
}

void Conv2d::forward(ParamStore& ps, const float* x, float* y, int64_t n, const Pass&) {
  SCULPT_CHECK(threads_ > 0, ConfigError,
               fmt::format("layer '{}' (conv2d): forward before reserve()", name()));
  if (!pools_here()) return convolve(ps, x, y, n);
  convolve(ps, x, conv_y_.data(), n);
  kernels::maxpool2d_forward(conv_y_.data(), n, *pool_, y, pool_arg_.data());
}

void Conv2d::backward(ParamStore& ps, const float* x, const float* y, const float* dy, float* dx,
                      int64_t n) {
  if (!pools_here()) return convolve_backward(ps, x, y, dy, dx, n);
  kernels::maxpool2d_backward(dy, pool_arg_.data(), n, *pool_, conv_dy_.data());
  convolve_backward(ps, x, conv_y_.data(), conv_dy_.data(), dx, n);
}

void Conv2d::convolve(ParamStore& ps, const float* x, float* y, int64_t n) {
  const int64_t ohw = g_.col_cols(), ckk = g_.col_rows(), out_sz = out_c_ * ohw;
  const float* w = ps.value(weight_);
  const float* b = ps.value(bias_);
  if (direct_) return direct_->forward(x, w, b, y, n);
  if (dnnl_) return dnnl_->forward(x, w, b, y, n);
  for_chunks(n, [&](int64_t first, int64_t count, int, float* col, float* out) {
    const float* src = columns(x, first, count, col);
    const int64_t cols = count * ohw;
    if (count == 1) {  // straight into y, on the bias
      float* yi = y + first * out_sz;
      for (int64_t oc = 0; oc < out_c_; ++oc) std::fill_n(yi + oc * ohw, ohw, b[oc]);
      kernels::gemm(false, false, out_c_, ohw, ckk, 1.0f, w, ckk, src, ohw, 1.0f, yi, ohw);
      if (relu_)
        for (int64_t p = 0; p < out_sz; ++p) yi[p] = std::max(yi[p], 0.0f);
      return;
    }
    // out [out_c, count * ohw], then each image's block to its place with the bias.
    kernels::gemm(false, false, out_c_, cols, ckk, 1.0f, w, ckk, src, cols, 0.0f, out, cols);
    const float floor = relu_ ? 0.0f : -std::numeric_limits<float>::infinity();
    for (int64_t j = 0; j < count; ++j) {
      float* yi = y + (first + j) * out_sz;
      for (int64_t oc = 0; oc < out_c_; ++oc) {
        const float* o = out + oc * cols + j * ohw;
        float* d = yi + oc * ohw;
        for (int64_t p = 0; p < ohw; ++p) d[p] = std::max(o[p] + b[oc], floor);
      }
    }
  });
}

void Conv2d::convolve_backward(ParamStore& ps, const float* x, const float* y, const float* dy,
                               float* dx, int64_t n) {
  const int64_t in_sz = g_.c * g_.h * g_.w, ohw = g_.col_cols(), ckk = g_.col_rows();
  const int64_t out_sz = out_c_ * ohw, w_sz = out_c_ * ckk;
  const float* w = ps.value(weight_);
  const float* mask = relu_ ? y : nullptr;  // dY counts where the fused ReLU passed
  if (direct_) return direct_->backward(x, w, dy, mask, dx, ps.grad(weight_), ps.grad(bias_), n);
  if (dnnl_) return dnnl_->backward(x, w, dy, mask, dx, ps.grad(weight_), ps.grad(bias_), n);
  const int nt = threads_for((n + group() - 1) / group());
  if (nt > 1) {
    std::fill_n(dw_part_.data(), (nt - 1) * w_sz, 0.0f);
    std::fill_n(db_part_.data(), (nt - 1) * out_c_, 0.0f);
  }
  for_chunks(n, [&](int64_t first, int64_t count, int t, float* col, float* out) {
    float* dw = t == 0 ? ps.grad(weight_) : dw_part_.data() + (t - 1) * w_sz;
    float* db = t == 0 ? ps.grad(bias_) : db_part_.data() + (t - 1) * out_c_;
    const int64_t cols = count * ohw;
    // dY [out_c, count * ohw]: the images' gradients side by side (where the fused ReLU
    // passed).
    const float* dyg = dy + first * out_sz;
    if (count > 1 || mask) {
      for (int64_t j = 0; j < count; ++j)
        for (int64_t oc = 0; oc < out_c_; ++oc) {
          const int64_t at = (first + j) * out_sz + oc * ohw;
          float* o = out + oc * cols + j * ohw;
          if (!mask) {
            std::copy_n(dy + at, ohw, o);
            continue;
          }
          for (int64_t p = 0; p < ohw; ++p) o[p] = mask[at + p] > 0.0f ? dy[at + p] : 0.0f;
        }
      dyg = out;
    }
    const float* src = columns(x, first, count, col);
    // dW [out_c, ckk] += dY cols^T
    kernels::gemm(false, true, out_c_, ckk, cols, 1.0f, dyg, cols, src, cols, 1.0f, dw, ckk);
    for (int64_t oc = 0; oc < out_c_; ++oc) {
      float s = 0.0f;
      for (int64_t p = 0; p < cols; ++p) s += dyg[oc * cols + p];
      db[oc] += s;
    }
    if (!dx) return;
    // dcol [ckk, count * ohw] = W^T dY, then scattered back image by image.
    if (count == 1 && direct()) {
      kernels::gemm(true, false, ckk, ohw, out_c_, 1.0f, w, ckk, dyg, ohw, 0.0f, dx + first * in_sz,
                    ohw);
      return;
    }
    kernels::gemm(true, false, ckk, cols, out_c_, 1.0f, w, ckk, dyg, cols, 0.0f, col, cols);
    for (int64_t j = 0; j < count; ++j)
      kernels::col2im(col + j * ohw, g_, dx + (first + j) * in_sz, cols);
  });
  if (nt == 1) return;
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

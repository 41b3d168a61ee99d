// The sparse stand-in for a graph's Linear or Conv2d, and the im2col + SpMM convolution it
// shares with the chain runtime (inference_model.cpp).
#include "infer/sparse_layer.h"

#include <fmt/format.h>
#include <omp.h>

#include <algorithm>

#include "core/error.h"
#include "core/limits.h"
#include "kernels/transpose.h"

namespace sculpt::infer {

void sparse_conv(const sparse::Csr& w, const kernels::ConvGeometry& g, const float* bias,
                 sparse::Act act, const float* x, float* y, int64_t n, float* cols, int threads) {
  const int64_t spatial = g.col_cols(), per_in = g.c * g.h * g.w, per_out = w.rows * spatial;
  const int64_t col_size = g.col_rows() * spatial;
  const bool direct = g.kh == 1 && g.kw == 1 && g.stride == 1 && g.pad == 0;
  auto image = [&](int64_t i, int thread) {
    const float* col = x + i * per_in;
    if (!direct) {
      float* buf = cols + int64_t(thread) * col_size;
      kernels::im2col(x + i * per_in, g, buf);
      col = buf;
    }
    sparse::spmm(w, col, spatial, spatial, bias, y + i * per_out, spatial, act);
  };
  // Never more threads than im2col buffers, should the caller raise the count after loading.
  threads = std::min(threads, omp_get_max_threads());
  if (n == 1 || threads <= 1) {
    for (int64_t i = 0; i < n; ++i) image(i, 0);
    return;
  }
#pragma omp parallel for num_threads(threads) schedule(static)
  for (int64_t i = 0; i < n; ++i) image(i, omp_get_thread_num());
}

SparseLayer::SparseLayer(std::unique_ptr<nn::Layer> dense)
    : Layer(dense->name()), dense_(std::move(dense)) {
  const nn::LayerTraits t = dense_->traits();
  SCULPT_CHECK(t.weight && t.bias, ConfigError,
               fmt::format("layer '{}' ({}) is not a Linear or a convolution: it has no sparse "
                           "form",
                           name(), kind()));
}

Shape SparseLayer::bind(const Shape& in) {
  in_ = in;
  out_ = dense_->bind(in);
  return out_;
}

int64_t SparseLayer::scratch_floats(int64_t max_batch, int threads) const {
  const kernels::ConvGeometry* g = dense_->traits().conv;
  if (g) return mul_sat(int64_t(std::max(1, threads)), g->col_rows() * g->col_cols());
  return mul_sat(max_batch, numel(in_) + numel(out_));
}

void SparseLayer::reserve(int64_t max_batch) {
  threads_ = std::max(1, omp_get_max_threads());
  scratch_.assign(size_t(scratch_floats(max_batch, threads_)), 0.0f);
}

void SparseLayer::prepare(const ParamStore& ps) {
  const nn::LayerTraits t = dense_->traits();
  const ParamEntry& w = ps.entry(*t.weight);
  csr_ = sparse::csr_from_dense(ps.value(*t.weight), t.units, w.size / t.units);
  bias_ = ps.value(*t.bias);
  if (!t.conv && sparse::windowed_is_fast()) windowed_ = sparse::windowed_from_csr(csr_);
}

void SparseLayer::forward(ParamStore&, const float* x, float* y, int64_t n, const nn::Pass&) {
  if (const kernels::ConvGeometry* g = dense_->traits().conv) {
    sparse_conv(csr_, *g, bias_, sparse::Act::kNone, x, y, n, scratch_.data(), threads_);
    return;
  }
  if (n == 1) {  // sample-major and feature-major are the same bytes
    if (windowed_.rows > 0)
      sparse::spmv(windowed_, x, bias_, y, sparse::Act::kNone);
    else
      sparse::spmv(csr_, x, bias_, y, sparse::Act::kNone);
    return;
  }
  const int64_t in = numel(in_), out = numel(out_);
  float* xt = scratch_.data();
  float* yt = xt + n * in;
  kernels::transpose_affine(x, n, in, 0.0f, 1.0f, xt);
  sparse::spmm(csr_, xt, n, n, bias_, yt, n, sparse::Act::kNone);
  kernels::transpose_affine(yt, out, n, 0.0f, 1.0f, y);
}

void SparseLayer::backward(ParamStore&, const float*, const float*, const float*, float*, int64_t) {
  throw ConfigError(
      fmt::format("layer '{}' runs on sparse inference kernels: it cannot train", name()), "",
      "train from the run's checkpoint, not from its export");
}

}  // namespace sculpt::infer

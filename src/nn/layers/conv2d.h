// Conv2d: x [n, c, h, w] -> y [n, out_c, oh, ow] with W [out_c, c, k, k], b [out_c], square
// kernel, equal stride and zero padding in both directions. im2col + gemm per chunk of images
// (enough of them for kGemmColumns columns: a 4x4 map alone makes a 16-column GEMM), chunks
// spread over threads; per-thread column buffers and weight-gradient partials are sized in
// reserve() and reduced in thread order (deterministic for a fixed thread count). Geometries
// that oneDNN's direct kernels run faster (kernels::DnnlConv::preferred) go through its
// primitives instead, those with few input channels through Sculpt's own direct kernels
// (kernels::DirectConv::preferred); im2col + gemm stays the reference twin of both
// (use_reference()).
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/tensor.h"
#include "kernels/conv_direct.h"
#include "kernels/conv_dnnl.h"
#include "kernels/im2col.h"
#include "nn/layer.h"

namespace sculpt::nn {

class Conv2d : public Layer {
 public:
  Conv2d(std::string name, int64_t out_channels, int64_t kernel, int64_t stride = 1,
         int64_t padding = 0);

  std::string_view kind() const override { return "conv2d"; }
  LayerTraits traits() const override {
    return {.weight = weight_, .bias = bias_, .units = out_c_, .conv = &g_};
  }
  std::string describe() const override;
  Shape bind(const Shape& in) override;
  void declare(ParamStore& ps) override;
  void init(ParamStore& ps, Rng& rng) override;
  void reserve(int64_t max_batch) override;
  int64_t scratch_floats(int64_t max_batch, int threads) const override;
  // The part of scratch_floats() the convolution's path takes.
  int64_t path_scratch_floats(int64_t max_batch, int threads) const;
  void forward(ParamStore& ps, const float* x, float* y, int64_t n, const Pass& pass) override;
  void backward(ParamStore& ps, const float* x, const float* y, const float* dy, float* dx,
                int64_t n) override;
  // Every path applies a following ReLU itself: oneDNN as a post-op and in its dY reorder, the
  // direct kernels in their stores and their dY chunks, im2col in the bias pass.
  bool fuse_relu(bool on) override {
    relu_ = on;
    return true;
  }
  // A 2x2 max-pool with stride 2 after the fused ReLU, where oneDNN will run the layer (it pools
  // the blocked output, so only the pooled quarter is reordered to NCHW). Should oneDNN not take
  // it after all, the layer pools its NCHW output with kernels::maxpool2d_* itself.
  bool fuse_maxpool(const kernels::PoolGeometry* pool) override;

  const kernels::ConvGeometry& geometry() const { return g_; }
  int64_t out_channels() const { return out_c_; }
  size_t weight_index() const { return weight_; }
  size_t bias_index() const { return bias_; }
  // Keeps this layer on im2col + gemm (the reference twin); takes effect at the next reserve().
  void use_reference(bool on) { reference_ = on; }
  // What runs the convolution: "im2col + gemm", "direct" or "oneDNN <its implementations>".
  std::string path() const;

 private:
  // The convolution (and fused ReLU) on the layer's path, into y [n, out_c, oh, ow].
  void convolve(ParamStore& ps, const float* x, float* y, int64_t n);
  // Its backward, y the output of convolve().
  void convolve_backward(ParamStore& ps, const float* x, const float* y, const float* dy, float* dx,
                         int64_t n);
  // A fused max-pool that this layer applies to convolve()'s NCHW output itself.
  bool pools_here() const { return pool_ && !(dnnl_ && dnnl_->pools()); }
  // 1x1 kernel, stride 1, no padding: the image already is its column matrix.
  bool direct() const { return g_.kh == 1 && g_.kw == 1 && g_.stride == 1 && g_.pad == 0; }
  // Output columns a GEMM should have at least: images per chunk = ceil(kGemmColumns / (oh*ow)).
  static constexpr int64_t kGemmColumns = 256;
  int64_t group() const;
  // Threads to spread n chunks over (1: run serially and let the gemm use the threads).
  int threads_for(int64_t n) const;
  // The column matrix of images [first, first + count) in `col` (rows count * oh*ow wide), or
  // the image itself for a single image of a direct convolution.
  const float* columns(const float* x, int64_t first, int64_t count, float* col) const;
  // chunk(first, count, thread, col, out) for every chunk of group() images, over the threads.
  template <class Chunk>
  void for_chunks(int64_t n, Chunk&& chunk);

  int64_t out_c_, kernel_, stride_, padding_;
  kernels::ConvGeometry g_;
  size_t weight_ = 0, bias_ = 0;
  bool reference_ = false;
  bool relu_ = false;                            // applies the following ReLU (fuse_relu)
  std::optional<kernels::PoolGeometry> pool_;    // and then this max-pool (fuse_maxpool)
  AlignedVector<float> conv_y_, conv_dy_;        // pools_here(): [max_batch, out_c, oh, ow]
  std::vector<int32_t> pool_arg_;                // pools_here(): the pooled maxima's positions
  std::unique_ptr<kernels::DnnlConv> dnnl_;      // oneDNN's primitives, when they run this layer
  std::unique_ptr<kernels::DirectConv> direct_;  // the direct kernels, when they run it
  int threads_ = 0;                              // per-thread buffers reserved
  AlignedVector<float> col_;                     // [threads, c*k*k, group * oh*ow]
  AlignedVector<float> out_buf_;  // [threads, out_c, group * oh*ow]: a chunk's Y or dY
  AlignedVector<float> dw_part_;  // [threads - 1, out_c, c*k*k] (thread 0 adds in place)
  AlignedVector<float> db_part_;  // [threads - 1, out_c]
};

}  // namespace sculpt::nn

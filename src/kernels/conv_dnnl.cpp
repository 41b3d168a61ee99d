// oneDNN convolution primitives with their reorders. Primitives are made with the C++ API and
// executed through the C API, whose argument array needs no allocation (the C++ execute takes
// an unordered_map).
#include "kernels/conv_dnnl.h"

#include <fmt/format.h>

#include <algorithm>
#include <cstring>
#include <oneapi/dnnl/dnnl.hpp>
#include <vector>

#include "core/cpu.h"
#include "core/error.h"
#include "core/limits.h"
#include "core/parallel.h"
#include "core/tensor.h"
#include "kernels/blocked16.h"
#include "kernels/conv_direct_kernels.h"
#include "kernels/gemm.h"

namespace sculpt::kernels {

namespace {

using dnnl::memory;
using Tag = memory::format_tag;
constexpr auto kF32 = memory::data_type::f32;
constexpr size_t kMaxSets = 4;  // batch sizes whose primitives are kept

// Floats for a buffer of `md` (bytes rounded up).
size_t floats_of(const memory::desc& md) { return (md.get_size() + 3) / 4; }

}  // namespace

bool DnnlConv::preferred(const ConvGeometry& g, int64_t) {
  const char* forced = conv_path_override();
  if (std::strcmp(forced, "auto") != 0) return std::strcmp(forced, "onednn") == 0;
  return g.c >= 8 && (g.kh > 1 || g.kw > 1);
}

int64_t DnnlConv::scratch_floats(const ConvGeometry& g, int64_t out_c, int64_t max_batch) {
  auto pad16 = [](int64_t c) { return (c + 15) / 16 * 16; };
  const int64_t in = mul_sat(pad16(g.c), g.h * g.w), out = mul_sat(pad16(out_c), g.col_cols());
  // Twice each blocked copy, and once more the output for a fused ReLU's masked dY or a fused
  // pool's pooled quarter and its maxima.
  const int64_t acts = add_sat(mul_sat(2 * max_batch, add_sat(in, out)), mul_sat(max_batch, out));
  return add_sat(acts, mul_sat(4 * pad16(out_c), pad16(g.c) * g.kh * g.kw));
}

// The primitives and reorders for one batch size; memory objects wrap the Impl's buffers or,
// for the caller's arrays, get their handle at each call.
struct DnnlConvSet {
  int64_t n = 0;
  dnnl::convolution_forward fwd;
  dnnl::convolution_backward_data bwd_data;
  dnnl::convolution_backward_weights bwd_weights;
  dnnl::reorder x_in, y_out, dy_in, dx_out, w_fwd, w_bwd, dw_out;
  memory x, y, dy, dx, w, b, dw;             // the caller's NCHW / OIHW arrays
  memory xs, ys, dys, dxs, wf, wb, dwb, db;  // blocked copies (ys and dys share a buffer)
  memory scratch_fwd, scratch_bd, scratch_bw;
  size_t scratch_floats = 0;
  size_t xs_floats = 0, ys_floats = 0, dxs_floats = 0, wf_floats = 0, wb_floats = 0, dwb_floats = 0;
  bool blocked16 = false;  // dY's blocked layout is nChw16c over whole blocks
};

struct DnnlConv::Impl {
  ConvGeometry g;
  int64_t oc = 0, max_batch = 0;
  bool relu = false;
  dnnl::engine eng{dnnl::engine::kind::cpu, 0};
  dnnl::stream st{eng};
  std::vector<std::unique_ptr<DnnlConvSet>> sets;  // most recently used last
  AlignedVector<float> xs, ys, dxs, wf, wb, dwb, db, scratch;
  AlignedVector<float> dy_masked;  // fused ReLU, dY not in whole 16-blocks: masked NCHW dY
  // A fused 2x2 max-pool (pools): the pooled output in nChw16c, and each maximum's position.
  bool pools = false;
  AlignedVector<float> pooled;
  std::vector<uint16_t> pool_arg;
  const float* last_x = nullptr;  // the input whose blocked copy xs holds
  int64_t last_n = -1;

  std::unique_ptr<DnnlConvSet> make(int64_t n) const;
  DnnlConvSet& set_for(int64_t n);
  void bind(DnnlConvSet& s);
  void run(const dnnl::primitive& p, std::initializer_list<dnnl_exec_arg_t> args);
  // The forward primitive on x (its blocked copy in xs, the output in ys), and with `pools` the
  // pooling of ys into `pooled` and pool_arg.
  void convolve(DnnlConvSet& s, const float* x, const float* w, const float* b, int64_t n);
};

namespace {

// The set's memory objects (the caller's NCHW / OIHW arrays and the blocked copies, all without
// buffers yet), their sizes, and the reorders between them.
void connect(DnnlConvSet& s, const dnnl::engine& eng,
             const dnnl::convolution_forward::primitive_desc& fpd,
             const dnnl::convolution_backward_data::primitive_desc& bdpd,
             const dnnl::convolution_backward_weights::primitive_desc& bwpd) {
  const memory::desc src_md = fpd.src_desc(), dst_md = fpd.dst_desc(), bias_md = fpd.bias_desc();
  const memory::desc src_plain(src_md.dims(), kF32, Tag::nchw),
      dst_plain(dst_md.dims(), kF32, Tag::nchw),
      wei_plain(fpd.weights_desc().dims(), kF32, Tag::oihw);
  auto user = [&](const memory::desc& md) { return memory(md, eng, DNNL_MEMORY_NONE); };
  s.x = user(src_plain);
  s.y = user(dst_plain);
  s.dy = user(dst_plain);
  s.dx = user(src_plain);
  s.w = user(wei_plain);
  s.b = user(bias_md);
  s.dw = user(wei_plain);
  s.xs = user(src_md);
  s.ys = user(dst_md);
  s.dys = user(dst_md);
  s.dxs = user(bdpd.diff_src_desc());
  s.wf = user(fpd.weights_desc());
  s.wb = user(bdpd.weights_desc());
  s.dwb = user(bwpd.diff_weights_desc());
  s.db = user(bias_md);
  s.scratch_fwd = user(fpd.scratchpad_desc());
  s.scratch_bd = user(bdpd.scratchpad_desc());
  s.scratch_bw = user(bwpd.scratchpad_desc());
  s.scratch_floats = std::max({floats_of(fpd.scratchpad_desc()), floats_of(bdpd.scratchpad_desc()),
                               floats_of(bwpd.scratchpad_desc())});
  s.xs_floats = floats_of(src_md);
  s.ys_floats = floats_of(dst_md);
  s.dxs_floats = floats_of(bdpd.diff_src_desc());
  s.wf_floats = floats_of(fpd.weights_desc());
  s.wb_floats = floats_of(bdpd.weights_desc());
  s.dwb_floats = floats_of(bwpd.diff_weights_desc());

  s.x_in = dnnl::reorder(s.x, s.xs);
  s.y_out = dnnl::reorder(s.ys, s.y);
  s.dy_in = dnnl::reorder(s.dy, s.dys);
  s.dx_out = dnnl::reorder(s.dxs, s.dx);
  s.w_fwd = dnnl::reorder(s.w, s.wf);
  s.w_bwd = dnnl::reorder(s.w, s.wb);
  dnnl::post_ops sum;  // dW += the batch's gradient
  sum.append_sum(1.0f);
  dnnl::primitive_attr accumulate;
  accumulate.set_post_ops(sum);
  s.dw_out = dnnl::reorder(dnnl::reorder::primitive_desc(s.dwb, s.dw, accumulate));
}

}  // namespace

std::unique_ptr<DnnlConvSet> DnnlConv::Impl::make(int64_t n) const {
  auto s = std::make_unique<DnnlConvSet>();
  s->n = n;
  const memory::dims src{n, g.c, g.h, g.w}, wei{oc, g.c, g.kh, g.kw}, bias{oc},
      dst{n, oc, g.oh(), g.ow()}, strides{g.stride, g.stride}, pad{g.pad, g.pad};
  const memory::desc bias_md(bias, kF32, Tag::x), src_any(src, kF32, Tag::any),
      dst_any(dst, kF32, Tag::any), wei_any(wei, kF32, Tag::any);
  dnnl::primitive_attr attr;
  attr.set_scratchpad_mode(dnnl::scratchpad_mode::user);
  auto forward_pd = [&](const memory::desc& src_md, const memory::desc& wei_md,
                        const memory::desc& dst_md, const dnnl::primitive_attr& a) {
    return dnnl::convolution_forward::primitive_desc(
        {dnnl::prop_kind::forward_training, dnnl::algorithm::convolution_direct, src_md, wei_md,
         bias_md, dst_md, strides, pad, pad},
        a, eng);
  };
  // The backward primitives take a forward without post-ops as their hint; a fused ReLU's
  // forward is the same convolution on the layouts that one chose, with the ReLU as a post-op.
  const auto hint = forward_pd(src_any, wei_any, dst_any, attr);
  dnnl::primitive_attr relu_attr;  // its own: a copy of `attr` would share its handle
  relu_attr.set_scratchpad_mode(dnnl::scratchpad_mode::user);
  dnnl::post_ops ops;
  ops.append_eltwise(1.0f, dnnl::algorithm::eltwise_relu, 0.0f, 0.0f);
  relu_attr.set_post_ops(ops);
  const auto fpd =
      relu ? forward_pd(hint.src_desc(), hint.weights_desc(), hint.dst_desc(), relu_attr) : hint;
  // Both backward primitives take dY in the forward's blocked layout: one reorder serves both.
  const memory::desc src_md = fpd.src_desc(), dst_md = fpd.dst_desc();
  const dnnl::convolution_backward_data::primitive_desc bdpd(
      {dnnl::algorithm::convolution_direct, src_any, wei_any, dst_md, strides, pad, pad}, attr, eng,
      hint);
  const dnnl::convolution_backward_weights::primitive_desc bwpd(
      {dnnl::algorithm::convolution_direct, src_md, wei_any, bias_md, dst_md, strides, pad, pad},
      attr, eng, hint);
  for (const char* info : {fpd.impl_info_str(), bdpd.impl_info_str(), bwpd.impl_info_str()}) {
    SCULPT_CHECK(std::strncmp(info, "ref", 3) != 0, Error,
                 fmt::format("oneDNN has only its reference convolution ({}) for {}x{}x{} -> {} "
                             "with kernel {}x{}",
                             info, g.c, g.h, g.w, oc, g.kh, g.kw));
  }
  s->fwd = dnnl::convolution_forward(fpd);
  s->bwd_data = dnnl::convolution_backward_data(bdpd);
  s->bwd_weights = dnnl::convolution_backward_weights(bwpd);

  connect(*s, eng, fpd, bdpd, bwpd);
  s->blocked16 = oc % 16 == 0 && dst_md == memory::desc(dst, kF32, Tag::nChw16c);
  return s;
}

// Points the set's blocked memories at the buffers (which a new batch size may have grown).
void DnnlConv::Impl::bind(DnnlConvSet& s) {
  auto grow = [](AlignedVector<float>& buf, size_t floats) {
    if (buf.size() < floats) buf.assign(floats, 0.0f);
  };
  grow(xs, s.xs_floats);
  grow(ys, s.ys_floats);
  grow(dxs, s.dxs_floats);
  grow(wf, s.wf_floats);
  grow(wb, s.wb_floats);
  grow(dwb, s.dwb_floats);
  grow(db, static_cast<size_t>(oc));
  grow(scratch, std::max<size_t>(s.scratch_floats, 1));
  if (relu && !s.blocked16) grow(dy_masked, static_cast<size_t>(s.n * oc * g.col_cols()));
  s.xs.set_data_handle(xs.data());
  s.ys.set_data_handle(ys.data());
  s.dys.set_data_handle(ys.data());
  s.dxs.set_data_handle(dxs.data());
  s.wf.set_data_handle(wf.data());
  s.wb.set_data_handle(wb.data());
  s.dwb.set_data_handle(dwb.data());
  s.db.set_data_handle(db.data());
  for (memory* m : {&s.scratch_fwd, &s.scratch_bd, &s.scratch_bw})
    m->set_data_handle(scratch.data());
}

DnnlConvSet& DnnlConv::Impl::set_for(int64_t n) {
  SCULPT_CHECK(n <= max_batch, Error,
               fmt::format("convolution of {} images but {} were reserved", n, max_batch), "",
               "call reserve() with the largest batch size");
  auto it = std::find_if(sets.begin(), sets.end(), [n](const auto& s) { return s->n == n; });
  if (it == sets.end()) {
    std::unique_ptr<DnnlConvSet> made;
    try {
      made = make(n);
    } catch (const dnnl::error& e) {
      throw Error(
          fmt::format("oneDNN cannot make the convolution {}x{}x{} -> {} with kernel "
                      "{}x{} for {} images: {}",
                      g.c, g.h, g.w, oc, g.kh, g.kw, n, e.what()));
    }
    if (sets.size() == kMaxSets) sets.erase(sets.begin());
    sets.push_back(std::move(made));
    // A grown buffer moves: every kept set points at the new one.
    for (auto& s : sets) bind(*s);
    return *sets.back();
  }
  if (it + 1 != sets.end()) std::rotate(it, it + 1, sets.end());
  return *sets.back();
}

void DnnlConv::Impl::run(const dnnl::primitive& p, std::initializer_list<dnnl_exec_arg_t> args) {
  const dnnl_status_t status =
      dnnl_primitive_execute(p.get(), st.get(), static_cast<int>(args.size()), args.begin());
  SCULPT_CHECK(status == dnnl_success, Error,
               fmt::format("oneDNN convolution failed with status {}", static_cast<int>(status)));
}

DnnlConv::DnnlConv(const ConvGeometry& g, int64_t out_c, int64_t max_batch, bool relu, bool pool)
    : impl_((apply_isa_to_onednn(), std::make_unique<Impl>())) {  // the cap before its engine
  impl_->g = g;
  impl_->oc = out_c;
  impl_->relu = relu;
  impl_->max_batch = std::max<int64_t>(1, max_batch);
  impl_->set_for(impl_->max_batch);
  // Pooling here needs whole 16-channel blocks and an AVX-512 CPU (the pooling kernels).
  impl_->pools = pool && relu && impl_->sets.back()->blocked16 && use_avx512();
  if (impl_->pools) {
    const int64_t pooled = impl_->max_batch * out_c * (g.oh() / 2) * (g.ow() / 2);
    impl_->pooled.assign(static_cast<size_t>(pooled), 0.0f);
    impl_->pool_arg.assign(static_cast<size_t>(pooled / 16 * 2), 0);
  }
}

bool DnnlConv::pools() const { return impl_->pools; }

DnnlConv::~DnnlConv() = default;

std::string DnnlConv::implementation() const {
  const DnnlConvSet& s = *impl_->sets.back();
  auto info = [](const dnnl::primitive& p) {
    const_dnnl_primitive_desc_t pd = nullptr;
    dnnl_primitive_get_primitive_desc(p.get(), &pd);
    const char* name = nullptr;
    dnnl_primitive_desc_query(pd, dnnl_query_impl_info_str, 0, &name);
    return std::string(name ? name : "?");
  };
  return fmt::format("{} / {} / {}", info(s.fwd), info(s.bwd_data), info(s.bwd_weights));
}

void DnnlConv::forward(const float* x, const float* w, const float* b, float* y, int64_t n) {
  if (n <= 0) return;
  Impl& I = *impl_;
  DnnlConvSet& s = I.set_for(n);
  I.convolve(s, x, w, b, n);
  if (I.pools)  // the pooled blocks to NCHW
    return blocked16_to_nchw(I.pooled.data(), n * I.oc / 16, (I.g.oh() / 2) * (I.g.ow() / 2), y);
  s.y.set_data_handle(y);
  I.run(s.y_out, {{DNNL_ARG_FROM, s.ys.get()}, {DNNL_ARG_TO, s.y.get()}});
}

void DnnlConv::Impl::convolve(DnnlConvSet& s, const float* x, const float* w, const float* b,
                              int64_t n) {
  s.x.set_data_handle(const_cast<float*>(x));
  s.w.set_data_handle(const_cast<float*>(w));
  s.b.set_data_handle(const_cast<float*>(b));
  run(s.x_in, {{DNNL_ARG_FROM, s.x.get()}, {DNNL_ARG_TO, s.xs.get()}});
  run(s.w_fwd, {{DNNL_ARG_FROM, s.w.get()}, {DNNL_ARG_TO, s.wf.get()}});
  run(s.fwd, {{DNNL_ARG_SRC, s.xs.get()},
              {DNNL_ARG_WEIGHTS, s.wf.get()},
              {DNNL_ARG_BIAS, s.b.get()},
              {DNNL_ARG_DST, s.ys.get()},
              {DNNL_ARG_SCRATCHPAD, s.scratch_fwd.get()}});
  last_x = x;
  last_n = n;
  if (!pools) return;
  // Pooling was set up on the reserved batch's layout; another batch size must share it.
  SCULPT_CHECK(s.blocked16, Error,
               fmt::format("oneDNN chose another layout for a batch of {}: the fused max-pool "
                           "needs 16-channel blocks",
                           n));
  maxpool2x2_blocked16(ys.data(), n * oc / 16, g.oh(), g.ow(), pooled.data(), pool_arg.data());
}

void DnnlConv::backward(const float* x, const float* w, const float* dy, const float* mask,
                        float* dx, float* dw, float* db, int64_t n) {
  if (n <= 0) return;
  Impl& I = *impl_;
  SCULPT_CHECK(!mask || I.relu, Error, "DnnlConv: a ReLU mask without a fused ReLU");
  DnnlConvSet& s = I.set_for(n);
  s.x.set_data_handle(const_cast<float*>(x));
  s.w.set_data_handle(const_cast<float*>(w));
  s.dw.set_data_handle(dw);
  const bool stale = x != I.last_x || n != I.last_n;
  SCULPT_CHECK(!(stale && I.pools), Error,
               "DnnlConv: a fused max-pool's backward must follow the forward of its input");
  if (stale)  // not the preceding forward's input: copy it again
    I.run(s.x_in, {{DNNL_ARG_FROM, s.x.get()}, {DNNL_ARG_TO, s.xs.get()}});
  const int64_t plane = I.g.col_cols();
  if (I.pools) {
    // dY of the pooled output, masked by the ReLU (a window's maximum passed it when the pooled
    // value is positive), blocked, then scattered to each window's maximum.
    const int64_t blocks = n * I.oc / 16, h = I.g.oh(), w2 = I.g.ow(), pp = (h / 2) * (w2 / 2);
    relu_mask_to_blocked16(dy, mask, blocks, pp, I.pooled.data());
    maxunpool2x2_blocked16(I.pooled.data(), I.pool_arg.data(), blocks, h, w2, I.ys.data());
  } else if (mask && s.blocked16) {
    relu_mask_to_blocked16(dy, mask, n * I.oc / 16, plane, I.ys.data());
  } else {
    if (mask) {  // the masked dY in NCHW first, then oneDNN's reorder
      const int64_t size = n * I.oc * plane;
      float* m = I.dy_masked.data();
      for_range(size, [=](int64_t b, int64_t e) {
        for (int64_t k = b; k < e; ++k) m[k] = mask[k] > 0.0f ? dy[k] : 0.0f;
      });
      dy = m;
    }
    s.dy.set_data_handle(const_cast<float*>(dy));
    I.run(s.dy_in, {{DNNL_ARG_FROM, s.dy.get()}, {DNNL_ARG_TO, s.dys.get()}});
  }
  I.run(s.bwd_weights, {{DNNL_ARG_SRC, s.xs.get()},
                        {DNNL_ARG_DIFF_DST, s.dys.get()},
                        {DNNL_ARG_DIFF_WEIGHTS, s.dwb.get()},
                        {DNNL_ARG_DIFF_BIAS, s.db.get()},
                        {DNNL_ARG_SCRATCHPAD, s.scratch_bw.get()}});
  I.run(s.dw_out, {{DNNL_ARG_FROM, s.dwb.get()}, {DNNL_ARG_TO, s.dw.get()}});
  for (int64_t o = 0; o < I.oc; ++o) db[o] += I.db[static_cast<size_t>(o)];
  if (dx) {
    s.dx.set_data_handle(dx);
    I.run(s.w_bwd, {{DNNL_ARG_FROM, s.w.get()}, {DNNL_ARG_TO, s.wb.get()}});
    I.run(s.bwd_data, {{DNNL_ARG_DIFF_DST, s.dys.get()},
                       {DNNL_ARG_WEIGHTS, s.wb.get()},
                       {DNNL_ARG_DIFF_SRC, s.dxs.get()},
                       {DNNL_ARG_SCRATCHPAD, s.scratch_bd.get()}});
    I.run(s.dx_out, {{DNNL_ARG_FROM, s.dxs.get()}, {DNNL_ARG_TO, s.dx.get()}});
  }
}

}  // namespace sculpt::kernels

// The inference runtime: a list of steps built from an export. Dense layers run the trainer's
// own layer code (sample-major activations [n, features]); sparse Linear layers run SpMM on
// feature-major activations [features, n] so the kernel vectorises over the batch, and a
// transpose is inserted only where the layout changes (never at batch 1, where both layouts
// are the same bytes). Sparse Conv2d runs im2col + SpMM per image, sample-major.
#include "infer/inference_model.h"

#include <fmt/format.h>
#include <omp.h>

#include <algorithm>

#include "core/error.h"
#include "core/limits.h"
#include "core/tensor.h"
#include "infer/inference_impl.h"
#include "infer/sparse_layer.h"
#include "kernels/gemm.h"
#include "kernels/im2col.h"
#include "kernels/transpose.h"
#include "nn/registry.h"

namespace sculpt::infer {

void InferenceModel::Impl::build(const infer::ExportModel& m, const InferenceOptions& o,
                                 const std::string& where) {
  SCULPT_CHECK(o.kernels == "auto" || o.kernels == "dense" || o.kernels == "sparse", ConfigError,
               "unknown kernels '" + o.kernels + "'", "kernels", "auto, dense or sparse");
  SCULPT_CHECK(o.max_batch >= 1, ConfigError, "max_batch must be at least 1", "max_batch");
  header = m.header;
  this->where = where;
  kernels = o.kernels;
  max_batch = o.max_batch;
  input_size = numel(header.input);
  const bool is_graph = std::any_of(header.spec.layers.begin(), header.spec.layers.end(),
                                    [](const nn::LayerSpec& l) { return !l.inputs.empty(); });
  if (is_graph) return build_graph(m, o, where);
  const std::vector<Shape> ins = build_layers(where);
  check_buffers(where);
  load_tensors(m, where);
  plan_steps(ins, o);
  buf_a.assign(size_t(max_batch * widest), 0.0f);
  buf_b.assign(size_t(max_batch * widest), 0.0f);
  col_threads = std::max(1, omp_get_max_threads());
  cols.assign(size_t(col_size * col_threads), 0.0f);
}

void InferenceModel::Impl::build_graph(const infer::ExportModel& m, const InferenceOptions& o,
                                       const std::string& where) {
  // The graph as the spec says, to name the layers, their inputs and their weights; then again
  // with each Linear and Conv2d sparse enough (the rule of a chain) on its sparse stand-in.
  std::vector<std::unique_ptr<nn::Layer>> layers;
  std::vector<std::vector<int>> inputs;
  std::vector<bool> sparse;
  try {
    nn::Model probe = nn::Model::build(header.spec, header.input);
    ParamStore names;
    probe.declare(names);
    for (size_t i = 0; i < probe.size(); ++i) {
      nn::LayerSpec spec = header.spec.layers[i];
      spec.name = probe.layer(i).name();
      layers.push_back(nn::make_layer(spec));
      inputs.push_back(probe.inputs_of(i));
      const nn::LayerTraits t = probe.layer(i).traits();
      bool fits = false;
      if (t.weight && t.bias && !t.sequence) {
        const std::string& w = names.entry(*t.weight).name;
        const auto it = std::find_if(m.tensors.begin(), m.tensors.end(),
                                     [&](const infer::ExportTensor& x) { return x.name == w; });
        if (it != m.tensors.end()) {
          const int64_t nnz =
              int64_t(it->values.size()) - std::count(it->values.begin(), it->values.end(), 0.0f);
          const double limit = t.conv ? kAutoSparseConv : kAutoSparseLinear;
          fits = o.kernels == "sparse" ||
                 (o.kernels == "auto" && double(nnz) <= limit * double(it->values.size()));
        }
      }
      sparse.push_back(fits);
      if (fits) layers.back() = std::make_unique<SparseLayer>(std::move(layers.back()));
    }
    graph.emplace(nn::Model::build(std::move(layers), header.input, std::move(inputs)));
    graph->declare(params);
  } catch (const Error& e) {
    throw DataError("the model's architecture does not build: " + e.message(), where,
                    "the file is damaged or was written for another Sculpt; export it again");
  }
  SCULPT_CHECK(graph->outputs() == header.outputs, DataError,
               fmt::format("the layers produce {} outputs, the header says {}", graph->outputs(),
                           header.outputs),
               where, "the file is damaged; export the model again");
  load_tensors(m, where);
  graph->reserve(max_batch);  // ConfigError before allocating when the batch is too large
  buf_a.assign(size_t(max_batch * input_size), 0.0f);
  for (size_t i = 0; i < graph->size(); ++i) {
    nn::Layer& l = graph->layer(i);
    const nn::LayerTraits t = l.traits();
    if (!t.weight || t.sequence) continue;
    if (sparse[i]) static_cast<SparseLayer&>(l).prepare(params);
    const float* w = params.value(*t.weight);
    const int64_t size = params.entry(*t.weight).size;
    info.push_back({l.name(), std::string(l.kind()), sparse[i] ? "sparse" : "dense", size,
                    size - std::count(w, w + size, 0.0f)});
  }
}

std::vector<Shape> InferenceModel::Impl::build_layers(const std::string& where) {
  // The architecture: the registry validates it as for training; its errors become the file's.
  Shape shape = header.input;
  std::vector<Shape> ins;
  try {
    for (const nn::LayerSpec& spec : header.spec.layers) {
      layers.push_back(nn::make_layer(spec));
      ins.push_back(shape);
      shape = layers.back()->bind(shape);
      SCULPT_CHECK(checked_numel(shape) > 0, ShapeError,
                   fmt::format("layer '{}' outputs {} per sample, more than the limit of {}",
                               spec.name, to_string(shape), kMaxTensorText));
      layers.back()->declare(params);  // checks the model's size before anything is allocated
    }
  } catch (const Error& e) {
    throw DataError("the model's architecture does not build: " + e.message(), where,
                    "the file is damaged or was written for another Sculpt; export it again");
  }
  SCULPT_CHECK(!layers.empty() && numel(shape) == header.outputs, DataError,
               fmt::format("the layers produce {} outputs, the header says {}", numel(shape),
                           header.outputs),
               where, "the file is damaged; export the model again");
  return ins;
}

void InferenceModel::Impl::check_buffers(const std::string& where) const {
  // The buffers for max_batch samples, checked before anything is allocated: every layer's
  // scratch (twice: a sparse convolution's im2col buffer mirrors the dense one) and the two
  // ping-pong activation buffers.
  const int threads = std::max(1, omp_get_max_threads());
  int64_t floats = 0, wide = input_size;
  for (const auto& l : layers) {
    wide = std::max(wide, numel(l->out_shape()));
    floats = add_sat(floats, mul_sat(2, l->scratch_floats(max_batch, threads)));
  }
  floats = add_sat(floats, mul_sat(2, mul_sat(max_batch, wide)));
  SCULPT_CHECK(floats <= kMaxActivationFloats, ConfigError,
               fmt::format("a batch of {} samples needs {} of activations for this model, more "
                           "than the limit of {}",
                           max_batch, human_bytes_binary(4.0 * double(floats)), kMaxActivationText),
               where, "use a smaller batch (--batch)");
}

void InferenceModel::Impl::load_tensors(const infer::ExportModel& m, const std::string& where) {
  params.finalize();
  SCULPT_CHECK(m.tensors.size() == params.count(), DataError,
               fmt::format("the file holds {} tensors, the model has {} parameters",
                           m.tensors.size(), params.count()),
               where, "the file is damaged; export the model again");
  for (size_t i = 0; i < params.count(); ++i) {
    const ParamEntry& e = params.entry(i);
    const infer::ExportTensor& t = m.tensors[i];
    SCULPT_CHECK(t.name == e.name && t.shape == e.shape, DataError,
                 fmt::format("tensor {} is '{}' [{}], the model expects '{}' [{}]", i, t.name,
                             fmt::join(t.shape, ", "), e.name, fmt::join(e.shape, ", ")),
                 where, "the file is damaged; export the model again");
    std::copy(t.values.begin(), t.values.end(), params.value(i));
  }
}

void InferenceModel::Impl::plan_steps(const std::vector<Shape>& ins, const InferenceOptions& o) {
  widest = input_size;
  for (size_t i = 0; i < layers.size(); ++i) {
    nn::Layer& l = *layers[i];
    l.reserve(max_batch);
    widest = std::max(widest, numel(l.out_shape()));
    const nn::LayerTraits t = l.traits();
    Step s;
    s.layer = &l;
    s.in = numel(ins[i]);
    s.out = numel(l.out_shape());
    s.layout = t.elementwise ? Layout::kAny : Layout::kSample;
    // A layer with prunable units is a linear map of its input (or a convolution, with a
    // geometry): it gets the dense or sparse kernels here. Any other (and a sequence layer) runs
    // its own forward.
    if (!t.weight || !t.bias || t.sequence) {
      if (!t.eval_identity) steps.push_back(std::move(s));
      continue;  // flatten and eval-mode dropout change no bytes
    }
    const size_t weight = *t.weight, bias = *t.bias;
    const bool conv = t.conv != nullptr;
    if (conv) s.geom = *t.conv;
    const ParamEntry& w = params.entry(weight);
    const int64_t rows = w.shape[0], cols = w.size / rows;
    const float* wv = params.value(weight);
    const int64_t nnz = w.size - std::count(wv, wv + w.size, 0.0f);
    const double limit = conv ? kAutoSparseConv : kAutoSparseLinear;
    const bool sparse =
        o.kernels == "sparse" || (o.kernels == "auto" && double(nnz) <= limit * double(w.size));
    info.push_back({l.name(), std::string(l.kind()), sparse ? "sparse" : "dense", w.size, nnz});
    if (!sparse && !conv) {
      s.weight = params.value(weight);
      s.bias = params.value(bias);
    }
    if (sparse) {
      s.csr = sparse::csr_from_dense(params.value(weight), rows, cols);
      s.bias = params.value(bias);
      if (!conv && sparse::windowed_is_fast()) s.windowed = sparse::windowed_from_csr(s.csr);
      s.kind = conv ? Step::Kind::kSparseConv : Step::Kind::kSparseLinear;
      s.layout = conv ? Layout::kSample : Layout::kFeature;
      if (conv) col_size = std::max(col_size, s.geom.col_rows() * s.geom.col_cols());
      // A following ReLU is fused into the kernel's store.
      if (i + 1 < layers.size() && layers[i + 1]->traits().relu) {
        s.act = sparse::Act::kRelu;
        ++i;
        info.back().name += "+relu";
      }
    }
    steps.push_back(std::move(s));
  }
}

void InferenceModel::Impl::run_step(const Step& s, const float* x, float* y, int64_t n) {
  switch (s.kind) {
    case Step::Kind::kLayer:
      if (n == 1 && s.weight)  // oneDNN would fork threads for a vector product
        kernels::gemv(s.weight, s.out, s.in, x, s.bias, y);
      else
        s.layer->forward(params, x, y, n, nn::Pass{});
      return;
    case Step::Kind::kSparseLinear:
      if (n == 1 && s.windowed.rows > 0)
        sparse::spmv(s.windowed, x, s.bias, y, s.act);
      else if (n == 1)
        sparse::spmv(s.csr, x, s.bias, y, s.act);
      else
        sparse::spmm(s.csr, x, n, n, s.bias, y, n, s.act);
      return;
    case Step::Kind::kSparseConv:
      sparse_conv(s.csr, s.geom, s.bias, s.act, x, y, n, cols.data(), col_threads);
      return;
    case Step::Kind::kTranspose:
      // kSample -> kFeature when s.layout is kFeature, else back.
      if (s.layout == Layout::kFeature)
        kernels::transpose_affine(x, n, s.in, 0.0f, 1.0f, y);
      else
        kernels::transpose_affine(x, s.in, n, 0.0f, 1.0f, y);
      return;
  }
}

InferenceModel::InferenceModel(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
InferenceModel::InferenceModel(InferenceModel&&) noexcept = default;
InferenceModel& InferenceModel::operator=(InferenceModel&&) noexcept = default;
InferenceModel::~InferenceModel() = default;

InferenceModel InferenceModel::load(const std::string& path, const InferenceOptions& options) {
  return from_export(infer::read_export(path), options, path);
}

InferenceModel InferenceModel::from_export(const infer::ExportModel& m,
                                           const InferenceOptions& options,
                                           const std::string& where) {
  auto impl = std::make_unique<Impl>();
  impl->build(m, options, where);
  return InferenceModel(std::move(impl));
}

void InferenceModel::predict(const float* x, int64_t n, float* logits) {
  using Layout = Impl::Layout;
  using Step = Impl::Step;
  Impl& m = *impl_;
  const float mean = m.header.norm_mean, inv_std = 1.0f / m.header.norm_std;
  for (int64_t done = 0; done < n; done += m.max_batch) {
    const int64_t b = std::min(m.max_batch, n - done);
    if (m.graph) {
      kernels::affine(x + done * m.input_size, b * m.input_size, mean, inv_std, m.buf_a.data());
      const float* y = m.graph->forward(m.params, m.buf_a.data(), b, nn::Pass{});
      std::copy(y, y + b * m.header.outputs, logits + done * m.header.outputs);
      continue;
    }
    float* cur = m.buf_a.data();
    float* next = m.buf_b.data();
    // The standardisation rides on the first layout change when there is one.
    const float* in = x + done * m.input_size;
    Layout layout = Layout::kSample;
    if (b > 1 && !m.steps.empty() && m.steps.front().layout == Layout::kFeature) {
      kernels::transpose_affine(in, b, m.input_size, mean, inv_std, cur);
      layout = Layout::kFeature;
    } else {
      kernels::affine(in, b * m.input_size, mean, inv_std, cur);
    }
    for (const Step& s : m.steps) {
      if (b > 1 && s.layout != Layout::kAny && s.layout != layout) {
        Step t;
        t.kind = Step::Kind::kTranspose;
        t.layout = s.layout;
        t.in = s.in;
        m.run_step(t, cur, next, b);
        std::swap(cur, next);
        layout = s.layout;
      }
      m.run_step(s, cur, next, b);
      std::swap(cur, next);
    }
    float* out = logits + done * m.header.outputs;
    if (b > 1 && layout == Layout::kFeature)
      kernels::transpose_affine(cur, m.header.outputs, b, 0.0f, 1.0f, out);
    else
      std::copy(cur, cur + b * m.header.outputs, out);
  }
}

std::vector<float> InferenceModel::predict(const std::vector<float>& x) {
  const int64_t size = impl_->input_size;
  SCULPT_CHECK(int64_t(x.size()) % size == 0, ShapeError,
               fmt::format("the input holds {} values, not a multiple of the model's {} per "
                           "sample",
                           x.size(), size),
               "predict", fmt::format("each sample is [{}]", fmt::join(input_shape(), ", ")));
  const int64_t n = int64_t(x.size()) / size;
  std::vector<float> logits(size_t(n * outputs()));
  predict(x.data(), n, logits.data());
  return logits;
}

std::vector<int32_t> InferenceModel::classify(const std::vector<float>& x) {
  SCULPT_CHECK(header().task != "regression", ConfigError, "a regression model has no classes",
               "classify", "use predict() for its values");
  const std::vector<float> logits = predict(x);
  return classes_of(logits.data(), int64_t(logits.size()) / outputs(), outputs());
}

std::vector<int32_t> classes_of(const float* logits, int64_t n, int64_t k) {
  std::vector<int32_t> out(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) {
    const float* row = logits + i * k;
    out[size_t(i)] =
        k == 1 ? int32_t(row[0] > 0.0f) : int32_t(std::max_element(row, row + k) - row);
  }
  return out;
}

const infer::ExportHeader& InferenceModel::header() const { return impl_->header; }
const Shape& InferenceModel::input_shape() const { return impl_->header.input; }
int64_t InferenceModel::input_size() const { return impl_->input_size; }
int64_t InferenceModel::outputs() const { return impl_->header.outputs; }
const std::vector<InferenceLayer>& InferenceModel::layers() const { return impl_->info; }
int64_t InferenceModel::num_params() const { return impl_->params.num_params(); }

int64_t InferenceModel::nonzeros() const { return impl_->params.num_nonzero(); }

std::string InferenceModel::summary() const {
  std::string out;
  for (const InferenceLayer& l : impl_->info)
    out +=
        fmt::format("  {:<12} {:<7} {:<7} {:>9} / {:>9} weights ({:.1f}%)\n", l.name, l.kind,
                    l.kernel, l.nonzeros, l.params, 100.0 * double(l.nonzeros) / double(l.params));
  return out;
}

}  // namespace sculpt::infer

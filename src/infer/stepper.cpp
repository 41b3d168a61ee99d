// Generation: the one-position model over the InferenceModel's own parameters, and the
// InferenceModel calls that run it.
#include "infer/stepper.h"

#include <fmt/format.h>

#include <algorithm>

#include "core/error.h"
#include "core/limits.h"
#include "infer/inference_impl.h"
#include "sparse/csr.h"
#include "sparse/windowed.h"

namespace sculpt::infer {

namespace {

ConfigError not_text_model(const std::string& why, const std::string& where) {
  return ConfigError("the model is not a text model: " + why, where,
                     "generation needs a model trained on text (data.source = \"text\") with an "
                     "embedding first");
}

nn::Model one_position_model(const ExportHeader& h, const std::string& where) {
  if (h.input.size() != 1)
    throw not_text_model(
        fmt::format("its input is [{}], not token ids [steps]", fmt::join(h.input, ", ")), where);
  try {
    return nn::Model::build(h.spec, {1});
  } catch (const Error& e) {
    throw not_text_model("its layers do not run on one position (" + e.message() + ")", where);
  }
}

// a += W x on the sparse kernel: spmv with `a` as its bias writes a + W x into a buffer of the
// layer's gate rows (the kernel's output may not alias its inputs), then back. On the batch-1
// windowed layout where that is the faster one (as a sparse Linear at batch 1), else CSR.
class CsrGateProduct final : public nn::GateProduct {
 public:
  explicit CsrGateProduct(sparse::Csr csr) : csr_(std::move(csr)), sum_(size_t(csr_.rows)) {
    if (sparse::windowed_is_fast()) windowed_ = sparse::windowed_from_csr(csr_);
  }
  void add_product(const float* x, float* a) const override {
    if (windowed_.rows > 0)
      sparse::spmv(windowed_, x, a, sum_.data(), sparse::Act::kNone);
    else
      sparse::spmv(csr_, x, a, sum_.data(), sparse::Act::kNone);
    std::copy(sum_.begin(), sum_.end(), a);
  }

 private:
  sparse::Csr csr_;
  sparse::Windowed windowed_;
  mutable AlignedVector<float> sum_;
};

}  // namespace

Stepper::Stepper(const ExportHeader& h, const ParamStore& params, const std::string& where,
                 const std::string& kernels)
    : model_(one_position_model(h, where)) {
  // Declared in the same order with the same shapes, the layers' parameter indices are those
  // of `params`: the steps run on the window model's own weights. A layer whose parameters
  // depend on the number of positions (a LayerNorm over the window, a Linear after a flatten)
  // differs here, and such a model does not predict position by position.
  ParamStore mine;
  model_.declare(mine);
  bool same = mine.count() == params.count();
  for (size_t i = 0; same && i < mine.count(); ++i)
    same =
        mine.entry(i).name == params.entry(i).name && mine.entry(i).shape == params.entry(i).shape;
  if (!same) throw not_text_model("its layers do not run position by position", where);
  ids_ = model_.layer(0).traits().token_ids;
  vocab_ = model_.outputs();
  if (ids_ == 0 || mul_sat(vocab_, h.input[0]) != h.outputs)
    throw not_text_model(fmt::format("it does not predict the next token at each of its {} "
                                     "positions from token ids",
                                     h.input[0]),
                         where);
  model_.reserve(1);
  for (size_t i = 0; i < model_.size(); ++i)
    if (auto* r = dynamic_cast<nn::Recurrent*>(&model_.layer(i))) {
      r->stream_state(true);
      recurrent_.push_back(r);
    }
  plan_sparse_gates(params, kernels);
}

void Stepper::plan_sparse_gates(const ParamStore& params, const std::string& kernels) {
  const auto product = [&](const std::string& name) -> const nn::GateProduct* {
    const std::optional<size_t> i = params.find(name);
    if (!i || kernels == "dense") return nullptr;
    const ParamEntry& e = params.entry(*i);
    const float* w = params.value(*i);
    const int64_t nnz = e.size - std::count(w, w + e.size, 0.0f);
    if (kernels != "sparse" && double(nnz) > kAutoSparseLinear * double(e.size)) return nullptr;
    products_.push_back(std::make_unique<CsrGateProduct>(
        sparse::csr_from_dense(w, e.shape[0], e.size / e.shape[0])));
    return products_.back().get();
  };
  for (nn::Recurrent* r : recurrent_) {
    const nn::GateProduct* ih = product(r->name() + ".weight_ih");
    r->set_gate_products(ih, product(r->name() + ".weight_hh"));
  }
}

void Stepper::start() {
  for (nn::Recurrent* r : recurrent_) r->reset_state();
}

std::span<const float> Stepper::feed(ParamStore& params, std::span<const int32_t> tokens) {
  SCULPT_CHECK(!tokens.empty(), ConfigError, "no tokens to feed", "feed",
               "give at least one token id");
  for (size_t i = 0; i < tokens.size(); ++i)
    SCULPT_CHECK(
        tokens[i] >= 0 && tokens[i] < ids_, DataError,
        fmt::format("token {} is id {}, outside the model's ids 0 to {}", i, tokens[i], ids_ - 1),
        "feed", "encode text with the model's vocabulary");
  for (const int32_t t : tokens) {
    const float x = float(t);
    logits_ = model_.forward(params, &x, 1, nn::Pass{});
  }
  return {logits_, size_t(vocab_)};
}

Stepper& InferenceModel::Impl::stepper_for_generation() {
  if (!stepper) stepper = std::make_unique<Stepper>(header, params, where, kernels);
  return *stepper;
}

void InferenceModel::start() { impl_->stepper_for_generation().start(); }

std::span<const float> InferenceModel::feed(std::span<const int32_t> tokens) {
  return impl_->stepper_for_generation().feed(impl_->params, tokens);
}

std::span<const float> InferenceModel::step(int32_t token) { return feed({&token, 1}); }

}  // namespace sculpt::infer

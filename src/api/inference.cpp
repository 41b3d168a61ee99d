// sculpt::InferenceModel (include/sculpt/inference.h) over infer::InferenceModel.
#include <fmt/format.h>

#include <optional>

#include "api/impl.h"
#include "core/error.h"
#include "infer/generate.h"

namespace sculpt {

InferenceModel::InferenceModel(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
InferenceModel::InferenceModel(InferenceModel&&) noexcept = default;
InferenceModel& InferenceModel::operator=(InferenceModel&&) noexcept = default;
InferenceModel::~InferenceModel() = default;

InferenceModel InferenceModel::load(const std::string& path, const InferenceOptions& options) {
  return InferenceModel(std::make_unique<Impl>(
      Impl{infer::InferenceModel::load(path, {options.kernels, options.max_batch})}));
}

void InferenceModel::predict(const float* x, int64_t n, float* logits) {
  impl_->model.predict(x, n, logits);
}
std::vector<float> InferenceModel::predict(const std::vector<float>& x) {
  return impl_->model.predict(x);
}
std::vector<int32_t> InferenceModel::classify(const std::vector<float>& x) {
  return impl_->model.classify(x);
}

namespace {

const data::Vocabulary& vocabulary_of(const infer::InferenceModel& m) {
  const std::optional<data::Vocabulary>& v = m.header().vocabulary;
  SCULPT_CHECK(v.has_value(), ConfigError,
               "the model has no vocabulary: text in and out needs a text model", "",
               "export a model trained with data.source = \"text\"");
  return *v;
}

}  // namespace

std::vector<int32_t> InferenceModel::encode(const std::string& text) const {
  return vocabulary_of(impl_->model).encode(text, "the text");
}
std::string InferenceModel::decode(const std::vector<int32_t>& ids) const {
  const data::Vocabulary& vocab = vocabulary_of(impl_->model);
  for (size_t i = 0; i < ids.size(); ++i)
    SCULPT_CHECK(
        ids[i] >= 0 && ids[i] < vocab.size(), DataError,
        fmt::format("token {} is id {}, outside the vocabulary's [0, {})", i, ids[i], vocab.size()),
        "", "decode ids the model produced (feed/step logits, generate)");
  return vocab.decode(ids);
}
void InferenceModel::start() { impl_->model.start(); }
std::span<const float> InferenceModel::feed(const std::vector<int32_t>& ids) {
  return impl_->model.feed(ids);
}
std::span<const float> InferenceModel::step(int32_t id) { return impl_->model.step(id); }

std::string InferenceModel::generate(const std::string& prompt, const GenerateOptions& options,
                                     const std::function<void(const std::string&)>& on_text) {
  const data::Vocabulary& vocab = vocabulary_of(impl_->model);
  SCULPT_CHECK(!prompt.empty(), ConfigError, "the prompt is empty", "prompt",
               "give the text to continue");
  const std::vector<int32_t> ids = vocab.encode(prompt, "the prompt");
  const std::vector<int32_t> out = infer::generate(
      impl_->model, ids,
      {.tokens = options.tokens, .temperature = options.temperature, .seed = options.seed},
      [&](int32_t t) {
        if (on_text) on_text(vocab.token_text(t));
      });
  return vocab.decode(out);
}

std::vector<int64_t> InferenceModel::input_shape() const { return impl_->model.input_shape(); }
int64_t InferenceModel::input_size() const { return impl_->model.input_size(); }
int64_t InferenceModel::outputs() const { return impl_->model.outputs(); }
int64_t InferenceModel::num_params() const { return impl_->model.num_params(); }
int64_t InferenceModel::nonzeros() const { return impl_->model.nonzeros(); }
std::string InferenceModel::summary() const { return impl_->model.summary(); }

}  // namespace sculpt

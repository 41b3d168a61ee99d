// sculpt::InferenceModel (include/sculpt/inference.h) over infer::InferenceModel.
#include "api/impl.h"

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
std::vector<int64_t> InferenceModel::input_shape() const { return impl_->model.input_shape(); }
int64_t InferenceModel::input_size() const { return impl_->model.input_size(); }
int64_t InferenceModel::outputs() const { return impl_->model.outputs(); }
int64_t InferenceModel::num_params() const { return impl_->model.num_params(); }
int64_t InferenceModel::nonzeros() const { return impl_->model.nonzeros(); }
std::string InferenceModel::summary() const { return impl_->model.summary(); }

}  // namespace sculpt

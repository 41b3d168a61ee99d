// Fuzz target: a model built from an export's header (the JSON between the preamble and the
// tensor data): the header decoded as decode_export decodes it, the layers made, bound and
// declared with every size limit checked before any allocation (kMaxTensorNumel per layer
// output and parameter, kMaxModelParams, kMaxActivationFloats for a batch of one). A small
// enough model is then built for real, as infer::InferenceModel::from_export builds it from the
// file (zero weights: every Linear and Conv2d runs on the sparse kernels), and runs one sample; a
// text model (a header with a vocabulary) also generates two tokens, one step at a time.
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "core/limits.h"
#include "core/param_store.h"
#include "fuzz/fuzz_target.h"
#include "infer/export_format.h"
#include "infer/inference_model.h"
#include "nn/model.h"

namespace {

// Beyond these a model is only planned: building it would make the fuzzer slow, not find more.
constexpr int64_t kBuildParams = int64_t{1} << 18;
constexpr int64_t kBuildFloats = int64_t{1} << 20;

void build_model(std::string_view json) {
  using namespace sculpt;
  const std::string where = "fuzz.sculpt";
  infer::ExportModel m;
  m.header = infer::decode_export_header(json, where);
  // What infer::InferenceModel checks, in the order it does, without its buffers.
  nn::ModelSpec named = m.header.spec;
  nn::Model plan = nn::Model::build(named, m.header.input);
  ParamStore params;
  plan.declare(params);
  if (params.num_params() > kBuildParams || plan.reserve_floats(1, 1) > kBuildFloats) return;
  for (const ParamEntry& e : params.entries())
    m.tensors.push_back({e.name, e.shape, std::vector<float>(size_t(e.size), 0.0f)});
  infer::InferenceModel model =
      infer::InferenceModel::from_export(m, {.kernels = "auto", .max_batch = 1}, where);
  const std::vector<float> logits = model.predict(std::vector<float>(size_t(model.input_size())));
  if (int64_t(logits.size()) != model.outputs()) std::abort();
  if (!m.header.vocabulary) return;
  model.start();  // ConfigError when its layers do not run position by position
  const std::span<const float> step = model.step(0);
  if (int64_t(step.size()) != m.header.vocabulary->size()) std::abort();
  model.step(1 % int32_t(step.size()));
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  return sculpt::fuzz::expect_clean_errors(
      [&] { build_model(sculpt::fuzz::as_bytes(data, size)); });
}

// Fuzz target: a model built from a recipe as a checkpoint stores it (the "recipe" metadata
// that `eval`, `export` and `prune` rebuild the run from): parse_recipe, the model spec (a
// built-in by name or the custom layer list), the layers bound to the input its data source
// gives and declared with every size limit checked before any allocation, and the activations
// of the recipe's batch sizes checked against kMaxActivationFloats. A small enough model is then
// built for real (arena, initialisation, activations for two samples) and runs forward and
// backward once.
#include <cstdint>
#include <string>
#include <vector>

#include "core/limits.h"
#include "core/param_store.h"
#include "core/rng.h"
#include "fuzz/fuzz_target.h"
#include "io/recipe.h"
#include "nn/model.h"

namespace {

constexpr int64_t kBuildParams = int64_t{1} << 18;
constexpr int64_t kBuildFloats = int64_t{1} << 20;

// The per-sample input and the outputs the recipe's data would give (without reading it):
// images for IDX sources, data.features values otherwise.
void data_shape(const sculpt::DataConfig& d, sculpt::Shape& input, int64_t& outputs) {
  using sculpt::DataSource;
  if (d.source == DataSource::kFashionMnist || d.source == DataSource::kIdx) {
    input = {1, 28, 28};
    outputs = 10;
  } else {
    input = {d.features};
    outputs = d.source == DataSource::kSyntheticLinear ? 1 : 2;
  }
}

void build_model(std::string_view text) {
  using namespace sculpt;
  const RecipeConfig r = parse_recipe(std::string(text), "fuzz.safetensors (recipe)");
  Shape input;
  int64_t outputs = 0;
  data_shape(r.data, input, outputs);
  const nn::ModelSpec spec =
      r.model.name == "custom" ? r.model.custom : nn::builtin_model(r.model.name, outputs);
  nn::Model model = nn::Model::build(spec, input);
  ParamStore params;
  model.declare(params);
  const int64_t batch = std::max(r.train.batch_size, r.train.eval_batch_size);
  // What Model::reserve refuses, computed without allocating (saturating arithmetic).
  (void)model.reserve_floats(batch, int(r.train.threads));
  if (params.num_params() > kBuildParams || model.reserve_floats(2, 1) > kBuildFloats) return;
  params.finalize();
  Rng rng(r.train.seed);
  model.init(params, rng);
  model.reserve(2);
  const std::vector<float> x(size_t(2 * numel(input)), 0.5f);
  const float* y = model.forward(params, x.data(), 2, nn::Pass{.mode = nn::Mode::kTrain, .key = 7});
  const std::vector<float> dy(y, y + 2 * model.outputs());
  model.backward(params, x.data(), dy.data(), 2);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  return sculpt::fuzz::expect_clean_errors(
      [&] { build_model(sculpt::fuzz::as_bytes(data, size)); });
}

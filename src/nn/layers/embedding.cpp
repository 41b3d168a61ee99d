// Embedding: a gather forward, a scatter-add backward (serial over positions, so rows read by
// several positions add up in a fixed order).
#include "nn/layers/embedding.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

#include "core/error.h"
#include "core/parallel.h"

namespace sculpt::nn {

LayerTraits Embedding::traits() const { return {.sequence = true, .token_ids = vocab_}; }

std::string Embedding::describe() const {
  return fmt::format("{} Embedding({} tokens -> {}, {} steps)", name(), vocab_, dim_, steps_);
}

Shape Embedding::bind(const Shape& in) {
  SCULPT_CHECK(in.size() == 1, ShapeError,
               fmt::format("layer '{}' (embedding) expects token ids [steps] but receives {}",
                           name(), to_string(in)),
               "", "make it the first layer of a model on text data");
  steps_ = in[0];
  in_ = in;
  out_ = {steps_, dim_};
  return out_;
}

void Embedding::declare(ParamStore& ps) { weight_ = ps.add(name() + ".weight", {vocab_, dim_}); }

void Embedding::init(ParamStore& ps, Rng& rng) {
  float* w = ps.value(weight_);
  for (int64_t k = 0; k < vocab_ * dim_; ++k) w[k] = static_cast<float>(rng.normal());
}

int64_t Embedding::id_at(const float* x, int64_t k) const {
  const float v = x[k];
  const bool ok = v >= 0.0f && v < static_cast<float>(vocab_) && v == std::floor(v);
  SCULPT_CHECK(ok, DataError,
               fmt::format("layer '{}' (embedding) reads {} at position {} of sample {}, which is "
                           "no token id in [0, {})",
                           name(), v, k % steps_, k / steps_, vocab_),
               "", "feed it token ids: text data, or a vocabulary as large as the data's");
  return static_cast<int64_t>(v);
}

void Embedding::forward(ParamStore& ps, const float* x, float* y, int64_t n, const Pass&) {
  const float* w = ps.value(weight_);
  for (int64_t k = 0; k < n * steps_; ++k) id_at(x, k);  // every id checked before any work
  const int64_t d = dim_;
  for_range(
      n * steps_,
      [=](int64_t b, int64_t e) {
        for (int64_t k = b; k < e; ++k)
          std::copy_n(w + static_cast<int64_t>(x[k]) * d, d, y + k * d);
      },
      n * steps_ * d);
}

void Embedding::backward(ParamStore& ps, const float* x, const float*, const float* dy, float* dx,
                         int64_t n) {
  float* dw = ps.grad(weight_);
  const int64_t d = dim_;
  for (int64_t k = 0; k < n * steps_; ++k) {
    float* row = dw + static_cast<int64_t>(x[k]) * d;
    const float* g = dy + k * d;
    for (int64_t j = 0; j < d; ++j) row[j] += g[j];
  }
  if (dx) std::fill_n(dx, n * steps_, 0.0f);
}

}  // namespace sculpt::nn

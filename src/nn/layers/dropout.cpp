// Dropout with a counter-based mask: element i of the batch (row-major) is kept when
// counter_uniform(key ^ salt, i) >= p. The same (key, i) gives the same decision on any thread.
#include "nn/layers/dropout.h"

#include <fmt/format.h>

#include <cstring>

#include "core/error.h"
#include "core/parallel.h"
#include "core/rng.h"

namespace sculpt::nn {

namespace {
uint64_t name_salt(const std::string& name) {
  uint64_t h = 0xcbf29ce484222325ull;  // FNV-1a
  for (unsigned char ch : name) h = (h ^ ch) * 0x100000001b3ull;
  return splitmix64(h);
}
}  // namespace

Dropout::Dropout(std::string name, double p)
    : ShapePreserving(std::move(name), "Dropout"), p_(p), salt_(name_salt(this->name())) {}

std::string Dropout::describe() const { return fmt::format("{} Dropout(p={})", name(), p_); }

void Dropout::reserve(int64_t max_batch) {
  mask_.assign(static_cast<size_t>(max_batch * width()), 0.0f);
}

void Dropout::forward(ParamStore&, const float* x, float* y, int64_t n, const Pass& pass) {
  const int64_t size = n * width();
  last_train_ = pass.mode == Mode::kTrain && p_ > 0.0;
  if (!last_train_) {
    if (y != x) std::memcpy(y, x, static_cast<size_t>(size) * sizeof(float));
    return;
  }
  SCULPT_CHECK(static_cast<size_t>(size) <= mask_.size(), ConfigError,
               fmt::format("layer '{}' (dropout): batch {} exceeds the reserved size", name(), n));
  const uint64_t key = pass.key ^ salt_;
  const float p = static_cast<float>(p_);
  const float scale = static_cast<float>(1.0 / (1.0 - p_));
  float* m = mask_.data();
#pragma omp parallel for schedule(static) if (size >= kParallelThreshold)
  for (int64_t i = 0; i < size; ++i) {
    m[i] = counter_uniform(key, static_cast<uint64_t>(i)) >= p ? scale : 0.0f;
    y[i] = x[i] * m[i];
  }
}

void Dropout::backward(ParamStore&, const float*, const float*, const float* dy, float* dx,
                       int64_t n) {
  if (!dx) return;
  const int64_t size = n * width();
  if (!last_train_) {
    if (dx != dy) std::memcpy(dx, dy, static_cast<size_t>(size) * sizeof(float));
    return;
  }
  const float* m = mask_.data();
#pragma omp parallel for schedule(static) if (size >= kParallelThreshold)
  for (int64_t i = 0; i < size; ++i) dx[i] = dy[i] * m[i];
}

}  // namespace sculpt::nn

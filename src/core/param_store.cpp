// ParamStore: declaration, arena allocation and lookup.
#include "core/param_store.h"

#include <algorithm>
#include <cstring>

#include "core/error.h"
#include "core/limits.h"
#include "core/parallel.h"

namespace sculpt {

namespace {
constexpr int64_t kAlignFloats = 16;  // 64 bytes
}

size_t ParamStore::add(std::string name, Shape shape, ParamFlags flags) {
  SCULPT_CHECK(!finalized_, ConfigError, "cannot add parameter '" + name + "' after finalize()");
  SCULPT_CHECK(!find(name).has_value(), ConfigError, "duplicate parameter name '" + name + "'", "",
               "give each layer a unique name");
  // Checked before anything is allocated: a recipe or a file can declare any shape.
  const int64_t size = checked_numel(shape);
  SCULPT_CHECK(size >= 0, ShapeError,
               fmt::format("parameter '{}' has shape {}, more than the limit of {}", name,
                           to_string(shape), kMaxTensorText),
               "model", "make the layer smaller");
  const int64_t padded = (size + kAlignFloats - 1) / kAlignFloats * kAlignFloats;
  SCULPT_CHECK(padded <= kMaxModelParams - arena_size_, ConfigError,
               fmt::format("parameter '{}' {} brings the model to {} parameters, more than the "
                           "limit of {}",
                           name, to_string(shape), arena_size_ + size, kMaxModelParamsText),
               "model", "make the layers smaller (out, kernel, channels)");
  ParamEntry e;
  e.name = std::move(name);
  e.size = size;
  e.shape = std::move(shape);
  e.offset = arena_size_;
  e.flags = flags;
  arena_size_ += padded;
  entries_.push_back(std::move(e));
  return entries_.size() - 1;
}

void ParamStore::finalize() {
  if (finalized_) return;
  values_.assign(static_cast<size_t>(arena_size_), 0.0f);
  grads_.assign(static_cast<size_t>(arena_size_), 0.0f);
  finalized_ = true;
}

std::optional<size_t> ParamStore::find(std::string_view name) const {
  for (size_t i = 0; i < entries_.size(); ++i)
    if (entries_[i].name == name) return i;
  return std::nullopt;
}

int64_t ParamStore::num_params() const {
  int64_t n = 0;
  for (const auto& e : entries_)
    if (e.flags.trainable) n += e.size;
  return n;
}

int64_t ParamStore::num_nonzero() const {
  int64_t n = 0;
  for (const auto& e : entries_)
    if (e.flags.trainable)
      n += std::count_if(values_.begin() + e.offset, values_.begin() + e.offset + e.size,
                         [](float v) { return v != 0.0f; });
  return n;
}

void ParamStore::zero_grads() {
  if (grads_.empty()) return;
  // On every thread: a serial memset of the MLP's 1 MB arena left the other thread idle.
  float* g = grads_.data();
  for_range(static_cast<int64_t>(grads_.size()), [g](int64_t b, int64_t e) {
    std::memset(g + b, 0, static_cast<size_t>(e - b) * sizeof(float));
  });
}

}  // namespace sculpt

// Flatten: a memcpy each way when run alone; in a chain the model skips it (LayerTraits::view).
#include "nn/layers/flatten.h"

#include <fmt/format.h>

#include <cstring>

namespace sculpt::nn {

std::string Flatten::describe() const {
  return fmt::format("{} Flatten({} -> {})", name(), to_string(in_), to_string(out_));
}

Shape Flatten::bind(const Shape& in) {
  in_ = in;
  out_ = {numel(in)};
  return out_;
}

void Flatten::forward(ParamStore&, const float* x, float* y, int64_t n, const Pass&) {
  if (y != x) std::memcpy(y, x, static_cast<size_t>(n * numel(in_)) * sizeof(float));
}

void Flatten::backward(ParamStore&, const float*, const float*, const float* dy, float* dx,
                       int64_t n) {
  if (dx && dx != dy) std::memcpy(dx, dy, static_cast<size_t>(n * numel(in_)) * sizeof(float));
}

}  // namespace sculpt::nn

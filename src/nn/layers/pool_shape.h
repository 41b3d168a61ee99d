// Shared bind() logic of the pooling layers: validates the input and the window.
#pragma once

#include <fmt/format.h>

#include <string>

#include "core/error.h"
#include "core/shape.h"
#include "kernels/pooling.h"

namespace sculpt::nn {

inline kernels::PoolGeometry bind_pool(const std::string& name, const char* type, const Shape& in,
                                       int64_t k, int64_t stride, int64_t pad) {
  SCULPT_CHECK(in.size() == 3, ShapeError,
               fmt::format("layer '{}' ({}) expects an image input [channels, height, width] but "
                           "receives {}",
                           name, type, to_string(in)),
               "", "pooling works on the output of conv2d or on image data");
  SCULPT_CHECK(2 * pad <= k, ConfigError,
               fmt::format("layer '{}' ({}): padding {} is more than half the kernel {}", name,
                           type, pad, k),
               "", "use padding <= kernel / 2 (as PyTorch requires)");
  SCULPT_CHECK(in[1] + 2 * pad >= k && in[2] + 2 * pad >= k, ShapeError,
               fmt::format("layer '{}' ({}) has kernel {} but receives {}: the window does not fit",
                           name, type, k, to_string(in)),
               "", "use a smaller kernel or remove an earlier pooling layer");
  return {.c = in[0], .h = in[1], .w = in[2], .k = k, .stride = stride, .pad = pad};
}

}  // namespace sculpt::nn

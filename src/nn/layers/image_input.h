// The input check of the layers that work on images (convolution, pooling): a per-sample
// shape [channels, height, width], else one ShapeError naming the layer, its kind and the shape.
#pragma once

#include <fmt/format.h>

#include "core/error.h"
#include "nn/layer.h"

namespace sculpt::nn {

inline void require_image(const Layer& layer, const Shape& in, const char* hint) {
  SCULPT_CHECK(in.size() == 3, ShapeError,
               fmt::format("layer '{}' ({}) expects an image input [channels, height, width] but "
                           "receives {}",
                           layer.name(), layer.kind(), to_string(in)),
               "", hint);
}

}  // namespace sculpt::nn

// Reference twins of transpose.h.
#include "kernels/transpose.h"

namespace sculpt::kernels {

void transpose_affine_reference(const float* x, int64_t rows, int64_t cols, float shift,
                                float scale, float* y) {
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t c = 0; c < cols; ++c) y[c * rows + r] = (x[r * cols + c] - shift) * scale;
}

void affine_reference(const float* x, int64_t size, float shift, float scale, float* y) {
  for (int64_t i = 0; i < size; ++i) y[i] = (x[i] - shift) * scale;
}

}  // namespace sculpt::kernels

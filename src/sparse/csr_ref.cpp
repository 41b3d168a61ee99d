// Reference twins of spmv/spmm: the definition, one output at a time in double. For tests only.
#include "sparse/csr.h"

namespace sculpt::sparse {

namespace {

int64_t column(const Csr& a, uint32_t p) { return a.narrow() ? a.col16[p] : a.col32[p]; }

float finish(double acc, Act act) {
  const auto y = static_cast<float>(acc);
  return act == Act::kRelu ? (y > 0.0f ? y : 0.0f) : y;
}

}  // namespace

void spmv_reference(const Csr& a, const float* x, const float* bias, float* y, Act act) {
  for (int64_t r = 0; r < a.rows; ++r) {
    double acc = bias ? bias[r] : 0.0;
    for (uint32_t p = a.row_ptr[r]; p < a.row_ptr[r + 1]; ++p)
      acc += static_cast<double>(a.values[p]) * x[column(a, p)];
    y[r] = finish(acc, act);
  }
}

void spmm_reference(const Csr& a, const float* X, int64_t ldx, int64_t n, const float* bias,
                    float* Y, int64_t ldy, Act act) {
  for (int64_t r = 0; r < a.rows; ++r) {
    for (int64_t j = 0; j < n; ++j) {
      double acc = bias ? bias[r] : 0.0;
      for (uint32_t p = a.row_ptr[r]; p < a.row_ptr[r + 1]; ++p)
        acc += static_cast<double>(a.values[p]) * X[column(a, p) * ldx + j];
      Y[r * ldy + j] = finish(acc, act);
    }
  }
}

}  // namespace sculpt::sparse

// Adaptive gradient clipping (AGC): Brock, De, Smith & Simonyan, "High-Performance Large-Scale
// Image Recognition Without Normalization", ICML 2021. Unit-wise, for every output unit i:
//   W_i = max(||w_i||, eps);  g_i <- g_i * clipping * W_i / ||g_i||  when ||g_i|| / W_i > clipping
// A unit is a row of a weight (its first dimension: Linear [out, in] and Conv2d
// [out_c, in_c, kh, kw] rows are output units). As in the paper's reference code (whose
// unitwise_norm squeezes the tensor and takes the norm over all of it when at most one
// dimension is left), a tensor with at most one dimension above 1 (a bias, a [n, 1] weight) is
// one unit. The reference divides by max(||g_i||, 1e-6); so does this.
#pragma once

#include "clip/clipper.h"

namespace sculpt::clip {

struct AgcConfig {
  double clipping = 0.01;  // lambda
  double eps = 1e-3;

  static const std::vector<Field<AgcConfig>>& fields();
};

class AgcClipper final : public Clipper {
 public:
  explicit AgcClipper(AgcConfig cfg) : cfg_(cfg) {}
  // One parallel pass over the units: both norms, then the scaling while the unit is in cache.
  ClipReport apply(ParamStore& ps) override;

 private:
  struct Unit {
    int64_t begin = 0;  // arena offset
    int64_t size = 0;
  };
  AgcConfig cfg_;
  std::vector<Unit> units_;
  std::vector<double> grad_sumsq_;  // per unit
  std::vector<float> factors_;      // per unit
};

// The units of a tensor of this shape: {count, size of each}.
std::pair<int64_t, int64_t> agc_units(const Shape& shape);

}  // namespace sculpt::clip

// Test helpers shared by the kernel, layer and loss tests: seeded random buffers and a
// relative comparison.
#pragma once

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <vector>

#include "core/rng.h"

namespace sculpt::testing {

inline std::vector<float> random_vector(size_t size, Rng& rng, double lo = -1.0, double hi = 1.0) {
  std::vector<float> v(size);
  for (auto& x : v) x = static_cast<float>(rng.uniform(lo, hi));
  return v;
}

// Expects |a - b| <= atol + rtol * |b| elementwise; reports the first few mismatches.
inline void expect_near_all(const std::vector<float>& a, const std::vector<float>& b,
                            double atol, double rtol, const std::string& what) {
  ASSERT_EQ(a.size(), b.size()) << what;
  int reported = 0;
  for (size_t i = 0; i < a.size(); ++i) {
    const double tol = atol + rtol * std::fabs(b[i]);
    if (!(std::fabs(double{a[i]} - b[i]) <= tol) && reported++ < 5)
      ADD_FAILURE() << what << " differs at " << i << ": " << a[i] << " vs " << b[i];
  }
}

}  // namespace sculpt::testing

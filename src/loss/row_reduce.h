// Sum of a per-row value over n rows, OpenMP over rows when the batch is large; per-thread
// partials are added in thread order so the result is the same for a fixed thread count.
#pragma once

#include <omp.h>

#include <algorithm>
#include <cstdint>

#include "core/parallel.h"

namespace sculpt::loss {

template <class RowFn>
double sum_rows(int64_t n, int64_t k, RowFn row) {
  if (n * k < kParallelThreshold || omp_in_parallel() || omp_get_max_threads() == 1) {
    double acc = 0.0;
    for (int64_t i = 0; i < n; ++i) acc += row(i);
    return acc;
  }
  double partial[64] = {};
  int used = 1;
#pragma omp parallel num_threads(std::min(omp_get_max_threads(), 64))
  {
    const int64_t t = omp_get_thread_num(), nt = omp_get_num_threads();
    const int64_t chunk = (n + nt - 1) / nt;
    const int64_t b = std::min(n, t * chunk), e = std::min(n, b + chunk);
    double acc = 0.0;
    for (int64_t i = b; i < e; ++i) acc += row(i);
    partial[t] = acc;
#pragma omp single
    used = static_cast<int>(nt);
  }
  double acc = 0.0;
  for (int t = 0; t < used; ++t) acc += partial[t];
  return acc;
}

}  // namespace sculpt::loss

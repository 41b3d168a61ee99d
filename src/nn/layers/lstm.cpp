// LSTM: per step the recurrent GEMM, then the cell update (parallel over samples); backward
// through time per step.
#include "nn/layers/lstm.h"

#include <algorithm>

#include "core/parallel.h"
#include "kernels/fast_math.h"
#include "kernels/gemm.h"

namespace sculpt::nn {

int64_t Lstm::scratch_floats(int64_t max_batch, int threads) const {
  const int64_t rows = mul_sat(max_batch, steps_);
  return add_sat(Recurrent::scratch_floats(max_batch, threads), mul_sat(rows, 9 * hidden_));
}

void Lstm::reserve(int64_t max_batch) {
  Recurrent::reserve(max_batch);
  const auto rows = static_cast<size_t>(max_batch * steps_), h = static_cast<size_t>(hidden_);
  act_.assign(rows * 4 * h, 0.0f);
  dact_.assign(rows * 4 * h, 0.0f);
  cells_.assign(rows * h, 0.0f);
}

// Step t of every sample: act_ at t holds a - b_hh; it becomes i, f, g, o, and c_t (into
// cells_) and h_t (into y) follow.
void Lstm::step_cells(ParamStore& ps, int64_t n, int64_t t, float* y) {
  const int64_t h = hidden_, T = steps_, width = 2 * h;
  float* act = act_.data();
  float* cells = cells_.data();
  const float* c0 = state0_.data() + h;
  const float* b_hh = ps.value(b_hh_);
  for_range(
      n,
      [=](int64_t b, int64_t e) {
        for (int64_t s = b; s < e; ++s) {
          float* a = act + (s * T + t) * 4 * h;
          float* c = cells + (s * T + t) * h;
          float* ys = y + (s * T + t) * h;
          const float* cp = t == 0 ? c0 + s * width : c - h;
#pragma omp simd
          for (int64_t j = 0; j < h; ++j) {
            const float i = kernels::sigmoid_fast(a[j] + b_hh[j]);
            const float f = kernels::sigmoid_fast(a[h + j] + b_hh[h + j]);
            const float g = kernels::tanh_fast(a[2 * h + j] + b_hh[2 * h + j]);
            const float o = kernels::sigmoid_fast(a[3 * h + j] + b_hh[3 * h + j]);
            a[j] = i;
            a[h + j] = f;
            a[2 * h + j] = g;
            a[3 * h + j] = o;
            c[j] = f * cp[j] + i * g;
            ys[j] = o * kernels::tanh_fast(c[j]);
          }
        }
      },
      n * 4 * h);
}

void Lstm::forward(ParamStore& ps, const float* x, float* y, int64_t n, const Pass& pass) {
  start_state(n, pass);
  const int64_t g4 = 4 * hidden_, T = steps_;
  project_inputs(ps, x, n * T, act_.data());
  for (int64_t t = 0; t < T; ++t) {
    project_state(ps, y, n, t, act_.data() + t * g4, T * g4);
    step_cells(ps, n, t, y);
  }
  if (keeps_state(pass)) keep_state(n, y, cells_.data());
}

void Lstm::backward(ParamStore& ps, const float* x, const float* y, const float* dy, float* dx,
                    int64_t n) {
  const int64_t h = hidden_, g4 = 4 * hidden_, T = steps_, width = 2 * h;
  const float* act = act_.data();
  const float* cells = cells_.data();
  const float* c0 = state0_.data() + h;
  float* dact = dact_.data();
  float* dstate = dstate_.data();  // per sample: dL/dh then dL/dc flowing into step t - 1
  std::fill_n(dstate, n * width, 0.0f);
  for (int64_t t = T - 1; t >= 0; --t) {
    for_range(
        n,
        [=](int64_t b, int64_t e) {
          for (int64_t s = b; s < e; ++s) {
            const int64_t r = s * T + t;
            const float* a = act + r * g4;
            const float* c = cells + r * h;
            const float* cp = t == 0 ? c0 + s * width : c - h;
            const float* dys = dy + r * h;
            float* da = dact + r * g4;
            float* dh = dstate + s * width;
            float* dc = dh + h;
#pragma omp simd
            for (int64_t j = 0; j < h; ++j) {
              const float i = a[j], f = a[h + j], g = a[2 * h + j], o = a[3 * h + j];
              const float tc = kernels::tanh_fast(c[j]);
              const float dht = dys[j] + dh[j];
              const float dct = dc[j] + dht * o * (1.0f - tc * tc);
              da[j] = dct * g * i * (1.0f - i);
              da[h + j] = dct * cp[j] * f * (1.0f - f);
              da[2 * h + j] = dct * i * (1.0f - g * g);
              da[3 * h + j] = dht * tc * o * (1.0f - o);
              dc[j] = dct * f;
            }
          }
        },
        n * g4);
    // dh_{t-1} = da_t W_hh (the carried state h_0 takes no gradient).
    if (t > 0)
      kernels::gemm(false, false, n, h, g4, 1.0f, dact + t * g4, T * g4, ps.value(w_hh_), h, 0.0f,
                    dstate, width);
  }
  finish_backward(ps, x, y, dact, dact, dx, n);
}

}  // namespace sculpt::nn

// GRU: per step the recurrent GEMM (with b_hh, which the reset gate scales), then the unit
// update (parallel over samples); backward through time per step.
#include "nn/layers/gru.h"

#include <algorithm>

#include "core/parallel.h"
#include "kernels/fast_math.h"
#include "kernels/gemm.h"

namespace sculpt::nn {

int64_t Gru::scratch_floats(int64_t max_batch, int threads) const {
  const int64_t rows = mul_sat(max_batch, steps_);
  return add_sat(
      add_sat(Recurrent::scratch_floats(max_batch, threads), mul_sat(rows, 10 * hidden_)),
      mul_sat(max_batch, 3 * hidden_));
}

void Gru::reserve(int64_t max_batch) {
  Recurrent::reserve(max_batch);
  const auto rows = static_cast<size_t>(max_batch * steps_), h = static_cast<size_t>(hidden_);
  act_.assign(rows * 3 * h, 0.0f);
  dgx_.assign(rows * 3 * h, 0.0f);
  dgh_.assign(rows * 3 * h, 0.0f);
  hn_.assign(rows * h, 0.0f);
  gh_.assign(static_cast<size_t>(max_batch) * 3 * h, 0.0f);
}

// Step t of every sample: act_ at t holds the input side, gh_ the recurrent side; act_ becomes
// r, z, n, hn_ keeps W_hn h + b_hn, and h_t goes into y.
void Gru::step_units(int64_t n, int64_t t, float* y) {
  const int64_t h = hidden_, T = steps_;
  float* act = act_.data();
  float* hn = hn_.data();
  const float* gh = gh_.data();
  const float* h0 = state0_.data();
  for_range(
      n,
      [=](int64_t b, int64_t e) {
        for (int64_t s = b; s < e; ++s) {
          float* a = act + (s * T + t) * 3 * h;
          const float* g = gh + s * 3 * h;
          float* hns = hn + (s * T + t) * h;
          float* ys = y + (s * T + t) * h;
          const float* hp = t == 0 ? h0 + s * h : ys - h;
#pragma omp simd
          for (int64_t j = 0; j < h; ++j) {
            const float r = kernels::sigmoid_fast(a[j] + g[j]);
            const float z = kernels::sigmoid_fast(a[h + j] + g[h + j]);
            const float nn = kernels::tanh_fast(a[2 * h + j] + r * g[2 * h + j]);
            a[j] = r;
            a[h + j] = z;
            a[2 * h + j] = nn;
            hns[j] = g[2 * h + j];
            ys[j] = (1.0f - z) * nn + z * hp[j];
          }
        }
      },
      n * 3 * h);
}

void Gru::forward(ParamStore& ps, const float* x, float* y, int64_t n, const Pass& pass) {
  start_state(n, pass);
  const int64_t g3 = 3 * hidden_, T = steps_;
  const float* b_hh = ps.value(b_hh_);
  project_inputs(ps, x, n * T, act_.data());
  for (int64_t t = 0; t < T; ++t) {
    for (int64_t s = 0; s < n; ++s) std::copy_n(b_hh, g3, gh_.data() + s * g3);
    project_state(ps, y, n, t, gh_.data(), g3);
    step_units(n, t, y);
  }
  if (keeps_state(pass)) keep_state(n, y, nullptr);
}

void Gru::backward(ParamStore& ps, const float* x, const float* y, const float* dy, float* dx,
                   int64_t n) {
  const int64_t h = hidden_, g3 = 3 * hidden_, T = steps_;
  const float* act = act_.data();
  const float* hn = hn_.data();
  const float* h0 = state0_.data();
  float* dgx = dgx_.data();
  float* dgh = dgh_.data();
  float* dstate = dstate_.data();  // per sample: dL/dh flowing into step t - 1
  std::fill_n(dstate, n * h, 0.0f);
  for (int64_t t = T - 1; t >= 0; --t) {
    for_range(
        n,
        [=](int64_t b, int64_t e) {
          for (int64_t s = b; s < e; ++s) {
            const int64_t row = s * T + t;
            const float* a = act + row * g3;
            const float* hns = hn + row * h;
            const float* hp = t == 0 ? h0 + s * h : y + (row - 1) * h;
            const float* dys = dy + row * h;
            float* dax = dgx + row * g3;
            float* dah = dgh + row * g3;
            float* dh = dstate + s * h;
#pragma omp simd
            for (int64_t j = 0; j < h; ++j) {
              const float r = a[j], z = a[h + j], nn = a[2 * h + j];
              const float dht = dys[j] + dh[j];
              const float dan = dht * (1.0f - z) * (1.0f - nn * nn);
              const float dar = dan * hns[j] * r * (1.0f - r);
              const float daz = dht * (hp[j] - nn) * z * (1.0f - z);
              dax[j] = dah[j] = dar;
              dax[h + j] = dah[h + j] = daz;
              dax[2 * h + j] = dan;
              dah[2 * h + j] = dan * r;
              dh[j] = dht * z;  // the direct path; the recurrent GEMM adds the rest
            }
          }
        },
        n * g3);
    if (t > 0)
      kernels::gemm(false, false, n, h, g3, 1.0f, dgh + t * g3, T * g3, ps.value(w_hh_), h, 1.0f,
                    dstate, h);
  }
  finish_backward(ps, x, y, dgx, dgh, dx, n);
}

}  // namespace sculpt::nn

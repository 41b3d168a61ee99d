// LSTM: the input projection of every step in one GEMM, then per step the recurrent GEMM and
// the cell update (parallel over samples); backward through time per step, the weight gradients
// in one GEMM each at the end.
#include "nn/layers/lstm.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

#include "core/error.h"
#include "core/parallel.h"
#include "kernels/gemm.h"
#include "nn/layers/init.h"

namespace sculpt::nn {

namespace {

float lstm_sigmoid(float a) { return 1.0f / (1.0f + std::exp(-a)); }

}  // namespace

std::string Lstm::describe() const {
  return fmt::format("{} LSTM({} -> {}, {} steps)", name(), in_features_, hidden_, steps_);
}

Shape Lstm::bind(const Shape& in) {
  SCULPT_CHECK(in.size() == 2, ShapeError,
               fmt::format("layer '{}' (lstm) expects a sequence [steps, features] but receives {}",
                           name(), to_string(in)),
               "", "put an embedding (token ids) or another lstm before it");
  steps_ = in[0];
  in_features_ = in[1];
  in_ = in;
  out_ = {steps_, hidden_};
  return out_;
}

void Lstm::declare(ParamStore& ps) {
  const int64_t g = 4 * hidden_;
  w_ih_ = ps.add(name() + ".weight_ih", {g, in_features_});
  w_hh_ = ps.add(name() + ".weight_hh", {g, hidden_});
  b_ih_ = ps.add(name() + ".bias_ih", {g}, {.decays = false, .prunable = false});
  b_hh_ = ps.add(name() + ".bias_hh", {g}, {.decays = false, .prunable = false});
}

// torch: every parameter from U(-1/sqrt(H), 1/sqrt(H)), in declaration order.
void Lstm::init(ParamStore& ps, Rng& rng) {
  for (const size_t idx : {w_ih_, w_hh_, b_ih_, b_hh_})
    init_uniform_fan_in(ps.value(idx), ps.entry(idx).size, hidden_, rng);
}

int64_t Lstm::scratch_floats(int64_t max_batch, int) const {
  const int64_t rows = mul_sat(max_batch, steps_);
  const int64_t per_step = add_sat(mul_sat(rows, 8 * hidden_), mul_sat(rows, hidden_));
  return add_sat(per_step, mul_sat(max_batch, 6 * hidden_));
}

void Lstm::reserve(int64_t max_batch) {
  max_batch_ = max_batch;
  const auto rows = static_cast<size_t>(max_batch * steps_), h = static_cast<size_t>(hidden_);
  gates_.assign(rows * 4 * h, 0.0f);
  dgates_.assign(rows * 4 * h, 0.0f);
  cells_.assign(rows * h, 0.0f);
  for (auto* v : {&dh_, &dc_, &h0_, &c0_, &h_last_, &c_last_})
    v->assign(static_cast<size_t>(max_batch) * h, 0.0f);
}

void Lstm::reset_state() {
  std::fill(h_last_.begin(), h_last_.end(), 0.0f);
  std::fill(c_last_.begin(), c_last_.end(), 0.0f);
}

void Lstm::set_state(const float* h, const float* c, int64_t n) {
  SCULPT_CHECK(
      n <= max_batch_, ConfigError,
      fmt::format("layer '{}' (lstm): state of {} samples exceeds the reserved batch", name(), n));
  std::copy_n(h, n * hidden_, h_last_.data());
  std::copy_n(c, n * hidden_, c_last_.data());
}

// Step t of every sample: gates_ at t hold the pre-activations a; they become i, f, g, o, and
// c_t (into cells_) and h_t (into y) follow.
void Lstm::step_cells(int64_t n, int64_t t, float* y) {
  const int64_t h = hidden_, T = steps_;
  float* gates = gates_.data();
  float* cells = cells_.data();
  const float* c0 = c0_.data();
  for_range(
      n,
      [=](int64_t b, int64_t e) {
        for (int64_t s = b; s < e; ++s) {
          float* a = gates + (s * T + t) * 4 * h;
          float* c = cells + (s * T + t) * h;
          float* ys = y + (s * T + t) * h;
          const float* cp = t == 0 ? c0 + s * h : c - h;
          for (int64_t j = 0; j < h; ++j) {
            const float i = lstm_sigmoid(a[j]), f = lstm_sigmoid(a[h + j]),
                        g = std::tanh(a[2 * h + j]), o = lstm_sigmoid(a[3 * h + j]);
            a[j] = i;
            a[h + j] = f;
            a[2 * h + j] = g;
            a[3 * h + j] = o;
            c[j] = f * cp[j] + i * g;
            ys[j] = o * std::tanh(c[j]);
          }
        }
      },
      n * 4 * h);
}

void Lstm::forward(ParamStore& ps, const float* x, float* y, int64_t n, const Pass& pass) {
  SCULPT_CHECK(n <= max_batch_, ConfigError,
               fmt::format("layer '{}' (lstm): batch {} exceeds the reserved size", name(), n));
  const int64_t h = hidden_, g4 = 4 * hidden_, T = steps_, rows = n * T;
  const float* w_ih = ps.value(w_ih_);
  const float* w_hh = ps.value(w_hh_);
  const float* b_ih = ps.value(b_ih_);
  const float* b_hh = ps.value(b_hh_);
  float* gates = gates_.data();
  const bool carry = carry_ && pass.mode == Mode::kTrain;
  if (carry) {
    std::copy_n(h_last_.data(), n * h, h0_.data());
    std::copy_n(c_last_.data(), n * h, c0_.data());
  } else {
    std::fill_n(h0_.data(), n * h, 0.0f);
    std::fill_n(c0_.data(), n * h, 0.0f);
  }
  // a = x W_ih^T + b_ih + b_hh for every step of every sample.
  kernels::gemm(false, true, rows, g4, in_features_, 1.0f, x, in_features_, w_ih, in_features_,
                0.0f, gates, g4);
  for_range(
      rows,
      [=](int64_t b, int64_t e) {
        for (int64_t r = b; r < e; ++r)
          for (int64_t j = 0; j < g4; ++j) gates[r * g4 + j] += b_ih[j] + b_hh[j];
      },
      rows * g4);
  for (int64_t t = 0; t < T; ++t) {
    // a_t += h_{t-1} W_hh^T: rows of sample s are T steps apart in both gates_ and y.
    const float* hp = t == 0 ? h0_.data() : y + (t - 1) * h;
    const int64_t ldh = t == 0 ? h : T * h;
    if (t > 0 || carry)
      kernels::gemm(false, true, n, g4, h, 1.0f, hp, ldh, w_hh, h, 1.0f, gates + t * g4, T * g4);
    step_cells(n, t, y);
  }
  if (pass.mode == Mode::kTrain)
    for (int64_t s = 0; s < n; ++s) {
      std::copy_n(y + (s * T + T - 1) * h, h, h_last_.data() + s * h);
      std::copy_n(cells_.data() + (s * T + T - 1) * h, h, c_last_.data() + s * h);
    }
}

void Lstm::backward(ParamStore& ps, const float* x, const float* y, const float* dy, float* dx,
                    int64_t n) {
  const int64_t h = hidden_, g4 = 4 * hidden_, T = steps_, rows = n * T;
  const float* w_ih = ps.value(w_ih_);
  const float* w_hh = ps.value(w_hh_);
  const float* gates = gates_.data();
  const float* cells = cells_.data();
  const float* c0 = c0_.data();
  float* dgates = dgates_.data();
  float* dh = dh_.data();
  float* dc = dc_.data();
  std::fill_n(dh, n * h, 0.0f);
  std::fill_n(dc, n * h, 0.0f);
  for (int64_t t = T - 1; t >= 0; --t) {
    for_range(
        n,
        [=](int64_t b, int64_t e) {
          for (int64_t s = b; s < e; ++s) {
            const int64_t r = s * T + t;
            const float* a = gates + r * g4;
            const float* c = cells + r * h;
            const float* cp = t == 0 ? c0 + s * h : c - h;
            const float* dys = dy + r * h;
            float* da = dgates + r * g4;
            float* dhs = dh + s * h;
            float* dcs = dc + s * h;
            for (int64_t j = 0; j < h; ++j) {
              const float i = a[j], f = a[h + j], g = a[2 * h + j], o = a[3 * h + j];
              const float tc = std::tanh(c[j]);
              const float dht = dys[j] + dhs[j];
              const float dct = dcs[j] + dht * o * (1.0f - tc * tc);
              da[j] = dct * g * i * (1.0f - i);
              da[h + j] = dct * cp[j] * f * (1.0f - f);
              da[2 * h + j] = dct * i * (1.0f - g * g);
              da[3 * h + j] = dht * tc * o * (1.0f - o);
              dcs[j] = dct * f;
            }
          }
        },
        n * g4);
    // dh_{t-1} = da_t W_hh (the carried state h_0 takes no gradient).
    if (t > 0)
      kernels::gemm(false, false, n, h, g4, 1.0f, dgates + t * g4, T * g4, w_hh, h, 0.0f, dh, h);
  }
  // dW_hh += sum_t da_t^T h_{t-1}: per sample, steps 1.. against the outputs 0..T-2, then step 0
  // against h_0 when a carried state made it nonzero.
  float* dw_hh = ps.grad(w_hh_);
  for (int64_t s = 0; s < n && T > 1; ++s)
    kernels::gemm(true, false, g4, h, T - 1, 1.0f, dgates + (s * T + 1) * g4, g4, y + s * T * h, h,
                  1.0f, dw_hh, h);
  if (carry_)
    kernels::gemm(true, false, g4, h, n, 1.0f, dgates, T * g4, h0_.data(), h, 1.0f, dw_hh, h);
  kernels::gemm(true, false, g4, in_features_, rows, 1.0f, dgates, g4, x, in_features_, 1.0f,
                ps.grad(w_ih_), in_features_);
  float* db_ih = ps.grad(b_ih_);
  float* db_hh = ps.grad(b_hh_);
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t j = 0; j < g4; ++j) {
      db_ih[j] += dgates[r * g4 + j];
      db_hh[j] += dgates[r * g4 + j];
    }
  if (dx)
    kernels::gemm(false, false, rows, in_features_, g4, 1.0f, dgates, g4, w_ih, in_features_, 0.0f,
                  dx, in_features_);
}

}  // namespace sculpt::nn

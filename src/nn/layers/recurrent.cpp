// Recurrent: the GEMMs LSTM and GRU share (input projection, recurrent projection, weight
// gradients, dx) and the state carried between windows.
#include "nn/layers/recurrent.h"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>

#include "core/error.h"
#include "kernels/gemm.h"
#include "nn/layers/init.h"

namespace sculpt::nn {

std::string Recurrent::describe() const {
  std::string kind_name(kind());
  for (char& c : kind_name) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return fmt::format("{} {}({} -> {}, {} steps)", name(), kind_name, in_features_, hidden_, steps_);
}

Shape Recurrent::bind(const Shape& in) {
  SCULPT_CHECK(in.size() == 2, ShapeError,
               fmt::format("layer '{}' ({}) expects a sequence [steps, features] but receives {}",
                           name(), kind(), to_string(in)),
               "", "put an embedding (token ids) or another recurrent layer before it");
  steps_ = in[0];
  in_features_ = in[1];
  in_ = in;
  out_ = {steps_, hidden_};
  return out_;
}

void Recurrent::declare(ParamStore& ps) {
  const int64_t g = blocks_ * hidden_;
  w_ih_ = ps.add(name() + ".weight_ih", {g, in_features_});
  w_hh_ = ps.add(name() + ".weight_hh", {g, hidden_});
  b_ih_ = ps.add(name() + ".bias_ih", {g}, {.decays = false, .prunable = false});
  b_hh_ = ps.add(name() + ".bias_hh", {g}, {.decays = false, .prunable = false});
}

void Recurrent::init(ParamStore& ps, Rng& rng) {
  for (const size_t idx : {w_ih_, w_hh_, b_ih_, b_hh_})
    init_uniform_fan_in(ps.value(idx), ps.entry(idx).size, hidden_, rng);
}

int64_t Recurrent::scratch_floats(int64_t max_batch, int) const {
  return mul_sat(max_batch, 3 * parts_ * hidden_);
}

void Recurrent::reserve(int64_t max_batch) {
  max_batch_ = max_batch;
  const auto size = static_cast<size_t>(max_batch * parts_ * hidden_);
  for (auto* v : {&state0_, &state_last_, &dstate_}) v->assign(size, 0.0f);
}

void Recurrent::reset_state() { std::fill(state_last_.begin(), state_last_.end(), 0.0f); }

void Recurrent::set_state(const float* state, int64_t n) {
  SCULPT_CHECK(n <= max_batch_, ConfigError,
               fmt::format("layer '{}' ({}): state of {} samples exceeds the reserved batch",
                           name(), kind(), n));
  std::copy_n(state, n * parts_ * hidden_, state_last_.data());
}

void Recurrent::start_state(int64_t n, const Pass& pass) {
  SCULPT_CHECK(
      n <= max_batch_, ConfigError,
      fmt::format("layer '{}' ({}): batch {} exceeds the reserved size", name(), kind(), n));
  carried_ = pass.mode == Mode::kTrain ? carry_ : stream_;
  if (carried_)
    std::copy_n(state_last_.data(), n * parts_ * hidden_, state0_.data());
  else
    std::fill_n(state0_.data(), n * parts_ * hidden_, 0.0f);
}

void Recurrent::keep_state(int64_t n, const float* y, const float* rest) {
  const int64_t h = hidden_, T = steps_, width = parts_ * h;
  for (int64_t s = 0; s < n; ++s) {
    const int64_t last = (s * T + T - 1) * h;
    std::copy_n(y + last, h, state_last_.data() + s * width);
    if (rest) std::copy_n(rest + last, h, state_last_.data() + s * width + h);
  }
}

void Recurrent::project_inputs(ParamStore& ps, const float* x, int64_t rows, float* a) const {
  const int64_t g = blocks_ * hidden_;
  const float* b_ih = ps.value(b_ih_);
  if (rows == 1 && ih_product_) {
    std::copy_n(b_ih, g, a);
    return ih_product_->add_product(x, a);
  }
  kernels::gemm(false, true, rows, g, in_features_, 1.0f, x, in_features_, ps.value(w_ih_),
                in_features_, 0.0f, a, g);
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t j = 0; j < g; ++j) a[r * g + j] += b_ih[j];
}

void Recurrent::project_state(ParamStore& ps, const float* y, int64_t n, int64_t t, float* a,
                              int64_t lda) const {
  const int64_t h = hidden_, g = blocks_ * hidden_;
  if (t == 0 && !carried_) return;  // h_0 = 0
  const float* hp = t == 0 ? state0_.data() : y + (t - 1) * h;
  const int64_t ldh = t == 0 ? parts_ * h : steps_ * h;
  if (n == 1 && steps_ == 1 && hh_product_) return hh_product_->add_product(hp, a);
  kernels::gemm(false, true, n, g, h, 1.0f, hp, ldh, ps.value(w_hh_), h, 1.0f, a, lda);
}

void Recurrent::finish_backward(ParamStore& ps, const float* x, const float* y, const float* dgx,
                                const float* dgh, float* dx, int64_t n) const {
  const int64_t h = hidden_, g = blocks_ * hidden_, T = steps_, rows = n * T;
  // dW_hh += sum_t dgh_t^T h_{t-1}: per sample, steps 1.. against the outputs 0..T-2; step 0
  // against h_0 when it was carried (else zero).
  float* dw_hh = ps.grad(w_hh_);
  for (int64_t s = 0; s < n && T > 1; ++s)
    kernels::gemm(true, false, g, h, T - 1, 1.0f, dgh + (s * T + 1) * g, g, y + s * T * h, h, 1.0f,
                  dw_hh, h);
  if (carried_)
    kernels::gemm(true, false, g, h, n, 1.0f, dgh, T * g, state0_.data(), parts_ * h, 1.0f, dw_hh,
                  h);
  kernels::gemm(true, false, g, in_features_, rows, 1.0f, dgx, g, x, in_features_, 1.0f,
                ps.grad(w_ih_), in_features_);
  float* db_ih = ps.grad(b_ih_);
  float* db_hh = ps.grad(b_hh_);
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t j = 0; j < g; ++j) {
      db_ih[j] += dgx[r * g + j];
      db_hh[j] += dgh[r * g + j];
    }
  if (dx)
    kernels::gemm(false, false, rows, in_features_, g, 1.0f, dgx, g, ps.value(w_ih_), in_features_,
                  0.0f, dx, in_features_);
}

}  // namespace sculpt::nn

// LSTM over a batch-first sequence, as one layer of torch.nn.LSTM(batch_first=True): input
// [T, I] per sample, output the hidden state of every step [T, H]. Gate rows in torch's order
// (input, forget, cell, output), so "<name>.weight_ih" [4H, I], ".weight_hh" [4H, H], ".bias_ih"
// and ".bias_hh" [4H] compare directly with torch's weight_ih_l0 and the rest:
//   a = W_ih x_t + b_ih + W_hh h_{t-1} + b_hh;  i, f, o = sigmoid(a_i, a_f, a_o);  g = tanh(a_g)
//   c_t = f c_{t-1} + i g;  h_t = o tanh(c_t)
// Stacked layers are several lstm layers (with dropout layers between them, as torch's
// `dropout`). The input projection of all T steps is one GEMM; each step adds its recurrent GEMM
// ([n, H] x [H, 4H]). Backward runs through time over the whole window, then the weight
// gradients of all steps come in two GEMMs.
//
// State: h_0 = c_0 = 0, unless carry_state(true): then each batch starts from the final state
// the previous training batch left in the same sample slot (truncated backpropagation through
// time over consecutive windows; no gradient flows into the carried state). reset_state() zeroes
// it (a new epoch, evaluation).
#pragma once

#include <cstdint>

#include "core/tensor.h"
#include "nn/layer.h"

namespace sculpt::nn {

class Lstm final : public Layer {
 public:
  Lstm(std::string name, int64_t hidden) : Layer(std::move(name)), hidden_(hidden) {}
  std::string_view kind() const override { return "lstm"; }
  std::string describe() const override;
  Shape bind(const Shape& in) override;
  void declare(ParamStore& ps) override;
  void init(ParamStore& ps, Rng& rng) override;
  void reserve(int64_t max_batch) override;
  int64_t scratch_floats(int64_t max_batch, int threads) const override;
  void forward(ParamStore& ps, const float* x, float* y, int64_t n, const Pass& pass) override;
  void backward(ParamStore& ps, const float* x, const float* y, const float* dy, float* dx,
                int64_t n) override;

  void carry_state(bool on) { carry_ = on; }
  void reset_state();
  // The state the next carried forward starts from: h and c [n, H] (n <= the reserved batch).
  void set_state(const float* h, const float* c, int64_t n);
  int64_t hidden() const { return hidden_; }
  size_t weight_ih_index() const { return w_ih_; }
  size_t weight_hh_index() const { return w_hh_; }

 private:
  void step_cells(int64_t n, int64_t t, float* y);

  int64_t hidden_, steps_ = 0, in_features_ = 0;
  size_t w_ih_ = 0, w_hh_ = 0, b_ih_ = 0, b_hh_ = 0;
  bool carry_ = false;
  int64_t max_batch_ = 0;
  AlignedVector<float> gates_;    // [n, T, 4H]: the activated gates i, f, g, o of the last forward
  AlignedVector<float> cells_;    // [n, T, H]: c_t of the last forward
  AlignedVector<float> dgates_;   // [n, T, 4H]: dL/da in backward
  AlignedVector<float> dh_, dc_;  // [n, H]: the gradient flowing to step t - 1
  AlignedVector<float> h0_, c0_;  // [max_batch, H]: the state each batch starts from
  AlignedVector<float> h_last_, c_last_;  // [max_batch, H]: the state the last forward left
};

}  // namespace sculpt::nn

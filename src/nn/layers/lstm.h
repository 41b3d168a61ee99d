// LSTM, one layer of torch.nn.LSTM(batch_first=True) (recurrent.h has what it shares with GRU).
// Gate blocks in torch's order (input, forget, cell, output):
//   a = W_ih x_t + b_ih + W_hh h_{t-1} + b_hh;  i, f, o = sigmoid(a_i, a_f, a_o);  g = tanh(a_g)
//   c_t = f c_{t-1} + i g;  h_t = o tanh(c_t)
// The state carried between windows is h and c.
#pragma once

#include <cstdint>

#include "nn/layers/recurrent.h"

namespace sculpt::nn {

class Lstm final : public Recurrent {
 public:
  Lstm(std::string name, int64_t hidden) : Recurrent(std::move(name), hidden, 4, 2) {}
  std::string_view kind() const override { return "lstm"; }
  void reserve(int64_t max_batch) override;
  int64_t scratch_floats(int64_t max_batch, int threads) const override;
  void forward(ParamStore& ps, const float* x, float* y, int64_t n, const Pass& pass) override;
  void backward(ParamStore& ps, const float* x, const float* y, const float* dy, float* dx,
                int64_t n) override;

 private:
  void step_cells(ParamStore& ps, int64_t n, int64_t t, float* y);

  AlignedVector<float> act_;    // [n, T, 4H]: the activated gates i, f, g, o of the last forward
  AlignedVector<float> cells_;  // [n, T, H]: c_t of the last forward
  AlignedVector<float> dact_;   // [n, T, 4H]: dL/da in backward
};

}  // namespace sculpt::nn

// GRU, one layer of torch.nn.GRU(batch_first=True) (recurrent.h has what it shares with LSTM).
// Gate blocks in torch's order (reset, update, new):
//   r = sigmoid(W_ir x + b_ir + W_hr h + b_hr);  z = sigmoid(W_iz x + b_iz + W_hz h + b_hz)
//   n = tanh(W_in x + b_in + r (W_hn h + b_hn));  h_t = (1 - z) n + z h_{t-1}
// The state carried between windows is h.
#pragma once

#include <cstdint>

#include "nn/layers/recurrent.h"

namespace sculpt::nn {

class Gru final : public Recurrent {
 public:
  Gru(std::string name, int64_t hidden) : Recurrent(std::move(name), hidden, 3, 1) {}
  std::string_view kind() const override { return "gru"; }
  void reserve(int64_t max_batch) override;
  int64_t scratch_floats(int64_t max_batch, int threads) const override;
  void forward(ParamStore& ps, const float* x, float* y, int64_t n, const Pass& pass) override;
  void backward(ParamStore& ps, const float* x, const float* y, const float* dy, float* dx,
                int64_t n) override;

 private:
  void step_units(int64_t n, int64_t t, float* y);

  AlignedVector<float> act_;        // [n, T, 3H]: r, z, n of the last forward
  AlignedVector<float> hn_;         // [n, T, H]: W_hn h_{t-1} + b_hn
  AlignedVector<float> gh_;         // [n, 3H]: one step's W_hh h_{t-1} + b_hh
  AlignedVector<float> dgx_, dgh_;  // [n, T, 3H]: dL/d(input side), dL/d(recurrent side)
};

}  // namespace sculpt::nn

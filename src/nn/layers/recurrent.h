// What LSTM and GRU share, as one layer of torch.nn.LSTM / GRU(batch_first=True): input
// [T, I] per sample, output the hidden state of every step [T, H]; parameters "<name>.weight_ih"
// [G*H, I], ".weight_hh" [G*H, H], ".bias_ih" and ".bias_hh" [G*H] with the G gate blocks in
// torch's order, all from U(-1/sqrt(H), 1/sqrt(H)) as torch initialises them. Stacked layers
// are several such layers (with dropout layers between them, as torch's `dropout`).
//
// The input projection of all T steps is one GEMM; each step adds its recurrent GEMM
// ([n, H] x [H, G*H]). Backward runs through time over the window, then the weight gradients of
// all steps come in one GEMM per sample (recurrent) and one in all (input).
//
// State: zero at the start of each batch, unless carry_state(true): then a training batch starts
// from the state the previous training batch left in the same sample slot (truncated
// backpropagation through time over consecutive windows; no gradient flows into the carried
// state). With stream_state(true) an eval forward does the same: it starts from the state the
// previous eval forward left and keeps its own (generation, one step at a time: infer/stepper.h).
// Per sample the state is P*H values: h, then (LSTM) c.
#pragma once

#include <cstdint>
#include <span>
#include <string>

#include "core/tensor.h"
#include "nn/layer.h"

namespace sculpt::nn {

// A gate matrix's product at batch 1 as another runtime computes it (src/infer: CSR kernels for
// a pruned weight): a += W x over the layer's G*H gate rows.
class GateProduct {
 public:
  virtual ~GateProduct() = default;
  virtual void add_product(const float* x, float* a) const = 0;
};

class Recurrent : public Layer {
 public:
  Recurrent(std::string name, int64_t hidden, int blocks, int state_parts)
      : Layer(std::move(name)), hidden_(hidden), blocks_(blocks), parts_(state_parts) {}
  // The pruner's view: H units of G rows in weight_ih, and weight_hh reading them back.
  LayerTraits traits() const override {
    return {.weight = w_ih_,
            .bias = b_ih_,
            .units = hidden_,
            .gates = blocks_,
            .recurrent_weight = w_hh_,
            .recurrent_bias = b_hh_,
            .sequence = true,
            .units_arg = "hidden"};
  }
  std::string describe() const override;
  Shape bind(const Shape& in) override;
  void declare(ParamStore& ps) override;
  void init(ParamStore& ps, Rng& rng) override;
  // The state buffers; a subclass adds its per-step ones.
  void reserve(int64_t max_batch) override;
  int64_t scratch_floats(int64_t max_batch, int threads) const override;

  void carry_state(bool on) { carry_ = on; }
  // Eval forwards continue from the state the last one left (training batches are unaffected).
  void stream_state(bool on) { stream_ = on; }
  void reset_state();
  // Forwards of one sample and one step compute W_ih x and W_hh h with these instead of the
  // dense GEMMs (nullptr: the GEMM). Not owned.
  void set_gate_products(const GateProduct* ih, const GateProduct* hh) {
    ih_product_ = ih;
    hh_product_ = hh;
  }
  // The state the next carried forward starts from: [n, P*H] (n <= the reserved batch).
  void set_state(const float* state, int64_t n);
  // The state the next carried forward starts from: [max_batch, P*H], P*H = state_width().
  std::span<const float> state() const { return state_last_; }
  int64_t state_width() const { return parts_ * hidden_; }

 protected:
  // Before a forward: state0_ from the carried state (a training batch with carry_state on, an
  // eval one with stream_state on) or zeros; carried_ says which.
  void start_state(int64_t n, const Pass& pass);
  // Whether a forward of this pass keeps its last state for the next (keep_state).
  bool keeps_state(const Pass& pass) const { return pass.mode == Mode::kTrain || stream_; }
  // After a training forward: the state after the last step, h from y and (LSTM) c from
  // `rest` [n, T, H], is what the next batch carries.
  void keep_state(int64_t n, const float* y, const float* rest);
  // a = x W_ih^T + b_ih for every step of every sample, into a [n*T, G*H].
  void project_inputs(ParamStore& ps, const float* x, int64_t rows, float* a) const;
  // a_t += h_{t-1} W_hh^T for step t (h_{t-1} from y, or state0_ at t = 0).
  void project_state(ParamStore& ps, const float* y, int64_t n, int64_t t, float* a,
                     int64_t lda) const;
  // The parameter gradients and dx from dL/da of the input side (dgx) and of the recurrent side
  // (dgh; the same array for LSTM), both [n*T, G*H]; y the forward's outputs.
  void finish_backward(ParamStore& ps, const float* x, const float* y, const float* dgx,
                       const float* dgh, float* dx, int64_t n) const;

  int64_t hidden_, steps_ = 0, in_features_ = 0;
  int blocks_, parts_;  // G gate blocks; P parts of the state
  size_t w_ih_ = 0, w_hh_ = 0, b_ih_ = 0, b_hh_ = 0;
  bool carry_ = false, stream_ = false;
  bool carried_ = false;  // the last forward started from state0_
  int64_t max_batch_ = 0;
  const GateProduct *ih_product_ = nullptr, *hh_product_ = nullptr;
  AlignedVector<float> state0_;      // [max_batch, P*H]: the state the last forward started from
  AlignedVector<float> state_last_;  // [max_batch, P*H]: the state the last forward left
  AlignedVector<float> dstate_;      // [max_batch, P*H]: backward's gradient into step t - 1
};

}  // namespace sculpt::nn

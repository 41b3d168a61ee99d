// Generation with a text model, one token at a time: the export's layers bound to a single
// position ([1] token id in, [1, vocab] logits out), the recurrent layers carrying h (and c)
// from one step to the next (nn::Recurrent::stream_state) and every other layer (Embedding,
// dropout, a Linear per position) running on that one position. After start(), feeding tokens
// t_1..t_k gives the logits the window forward gives at position k over the same tokens. A
// recurrent layer's gate matrices that are sparse enough (kernels as InferenceOptions says:
// density at most kAutoSparseLinear under auto) run on the CSR SpMV kernels.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "core/param_store.h"
#include "infer/export_format.h"
#include "nn/layers/recurrent.h"
#include "nn/model.h"

namespace sculpt::infer {

class Stepper {
 public:
  // The model of `h` (whose parameters `params` holds, in the model's order) bound to one
  // position. ConfigError naming `where` when it is no text model: its input is not token ids
  // [steps], or a layer does not work position by position (its parameters would differ).
  Stepper(const ExportHeader& h, const ParamStore& params, const std::string& where,
          const std::string& kernels = "auto");

  // Zero state: the next token is the first of a sequence.
  void start();
  // Runs `tokens` in order (ids in [0, vocab())), each continuing from the state the one before
  // left; returns the logits after the last, valid until the next feed. DataError naming the
  // first id out of range (nothing is run then); ConfigError for no tokens.
  std::span<const float> feed(ParamStore& params, std::span<const int32_t> tokens);
  int64_t vocab() const { return vocab_; }
  int sparse_gates() const { return int(products_.size()); }  // gate matrices on CSR

 private:
  nn::Model model_;
  // The layers' gate matrices on CSR kernels.
  void plan_sparse_gates(const ParamStore& params, const std::string& kernels);

  std::vector<nn::Recurrent*> recurrent_;
  std::vector<std::unique_ptr<nn::GateProduct>> products_;
  int64_t ids_ = 0;    // the embedding's token ids
  int64_t vocab_ = 0;  // logits per position
  const float* logits_ = nullptr;
};

}  // namespace sculpt::infer

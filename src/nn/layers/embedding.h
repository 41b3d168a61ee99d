// Embedding, as torch.nn.Embedding: the input holds token ids (as floats, whole numbers in
// [0, vocab)), one per position; the output is the weight row of each: [steps] -> [steps, dim].
// "<name>.weight" [vocab, dim], initialised from N(0, 1) as torch does. backward adds dy's rows
// into the rows of the ids read; ids take no gradient (dx is written as zeros).
#pragma once

#include <cstdint>

#include "nn/layer.h"

namespace sculpt::nn {

class Embedding final : public Layer {
 public:
  Embedding(std::string name, int64_t vocab, int64_t dim)
      : Layer(std::move(name)), vocab_(vocab), dim_(dim) {}
  std::string_view kind() const override { return "embedding"; }
  LayerTraits traits() const override;
  std::string describe() const override;
  Shape bind(const Shape& in) override;
  void declare(ParamStore& ps) override;
  void init(ParamStore& ps, Rng& rng) override;
  void forward(ParamStore& ps, const float* x, float* y, int64_t n, const Pass& pass) override;
  void backward(ParamStore& ps, const float* x, const float* y, const float* dy, float* dx,
                int64_t n) override;

 private:
  // The id at x[k], checked: a DataError naming the position when it is no id of the vocabulary.
  int64_t id_at(const float* x, int64_t k) const;

  int64_t vocab_, dim_, steps_ = 0;
  size_t weight_ = 0;
};

}  // namespace sculpt::nn

// The merge layers of a model graph (nn/model.h):
//   add:    y = x_1 + ... + x_k, every input of the same shape (a residual connection);
//           dx_i = dy.
//   concat: the inputs stacked along their first axis (channels, or features of flat inputs),
//           the other axes equal, as torch.cat(dim=1); dx_i = dy's slice of input i.
#pragma once

#include <vector>

#include "nn/layer.h"

namespace sculpt::nn {

class Add final : public MergeLayer {
 public:
  using MergeLayer::MergeLayer;
  std::string_view kind() const override { return "add"; }
  // The channels of every input are the output's: structured pruning must remove them together.
  LayerTraits traits() const override { return {.keeps_channels = true, .elementwise = true}; }
  std::string describe() const override;
  Shape bind_inputs(const std::vector<Shape>& in) override;
  void forward_inputs(const std::vector<const float*>& xs, float* y, int64_t n) override;
  void backward_inputs(const float* dy, const std::vector<float*>& dxs,
                       const std::vector<char>& assign, int64_t n) override;

 private:
  size_t inputs_ = 0;
};

class Concat final : public MergeLayer {
 public:
  using MergeLayer::MergeLayer;
  std::string_view kind() const override { return "concat"; }
  LayerTraits traits() const override { return {.stacks_channels = true}; }
  std::string describe() const override;
  Shape bind_inputs(const std::vector<Shape>& in) override;
  void forward_inputs(const std::vector<const float*>& xs, float* y, int64_t n) override;
  void backward_inputs(const float* dy, const std::vector<float*>& dxs,
                       const std::vector<char>& assign, int64_t n) override;

 private:
  std::vector<int64_t> widths_;  // values per sample of each input
};

}  // namespace sculpt::nn

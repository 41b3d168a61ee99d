// ParamStore: the one parameter arena. All parameter values live in one flat float buffer and all
// gradients in a parallel one; each entry has a name ("fc1.weight"), a shape, an offset and
// flags. Layers keep entry indices and read their views; optimizer state and masks are arrays
// parallel to the arena, so clipping, decay, masking and checkpointing are loops over spans.
//
// Life cycle: add() entries (layers declare), then finalize() allocates both buffers (zeroed).
// Entry offsets are padded to 16 floats so every tensor starts on a 64-byte boundary; the
// padding is zero in values and grads and stays zero under every element-wise update.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "core/shape.h"
#include "core/tensor.h"

namespace sculpt {

struct ParamFlags {
  bool decays = true;    // weight decay applies (false for biases by default)
  bool prunable = true;  // pruning may zero entries (false for biases by default)
  // false: a buffer its layer updates itself (BatchNorm's running statistics): saved in
  // checkpoints and exports like a parameter, but it gets no gradient and no optimizer touches
  // it (Optimizer::init freezes it, whatever the parameter groups say).
  bool trainable = true;
};

struct ParamEntry {
  std::string name;
  Shape shape;
  int64_t offset = 0;  // in floats, into values() and grads()
  int64_t size = 0;    // numel(shape)
  ParamFlags flags;
};

class ParamStore {
 public:
  // Declares a tensor; returns its index. Requires: not finalized, name unique.
  size_t add(std::string name, Shape shape, ParamFlags flags = {});
  // Allocates the value and gradient arenas (zero-filled). Idempotent.
  void finalize();
  bool finalized() const { return finalized_; }

  size_t count() const { return entries_.size(); }
  const ParamEntry& entry(size_t i) const { return entries_[i]; }
  const std::vector<ParamEntry>& entries() const { return entries_; }
  std::optional<size_t> find(std::string_view name) const;

  float* value(size_t i) { return values_.data() + entries_[i].offset; }
  const float* value(size_t i) const { return values_.data() + entries_[i].offset; }
  float* grad(size_t i) { return grads_.data() + entries_[i].offset; }
  const float* grad(size_t i) const { return grads_.data() + entries_[i].offset; }
  std::span<float> value_span(size_t i) { return {value(i), size_t(entries_[i].size)}; }
  std::span<float> grad_span(size_t i) { return {grad(i), size_t(entries_[i].size)}; }

  // Whole arenas, padding included (padding stays zero).
  std::span<float> values() { return {values_.data(), values_.size()}; }
  std::span<const float> values() const { return {values_.data(), values_.size()}; }
  std::span<float> grads() { return {grads_.data(), grads_.size()}; }
  std::span<const float> grads() const { return {grads_.data(), grads_.size()}; }
  int64_t arena_size() const { return arena_size_; }
  // Number of real parameters: padding and buffers (ParamFlags::trainable false) excluded, as
  // torch's parameters() counts.
  int64_t num_params() const;
  // How many of those are not zero (a pruned model's remaining weights).
  int64_t num_nonzero() const;

  void zero_grads();

 private:
  std::vector<ParamEntry> entries_;
  AlignedVector<float> values_, grads_;
  int64_t arena_size_ = 0;
  bool finalized_ = false;
};

}  // namespace sculpt

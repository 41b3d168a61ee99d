// Tensor: an owning, 64-byte aligned float buffer with a shape. TensorView: a non-owning view.
// Hot paths work on raw pointers taken from these; they never allocate per step.
#pragma once

#include <cstddef>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <new>
#include <span>
#include <vector>

#include "core/shape.h"

namespace sculpt {

// Aligned allocator so that buffers start on a cache line (AVX-512 loads, no false sharing).
template <class T>
struct AlignedAllocator {
  using value_type = T;
  static constexpr size_t kAlign = 64;
  AlignedAllocator() = default;
  template <class U>
  AlignedAllocator(const AlignedAllocator<U>&) {}
  T* allocate(size_t n) {
    size_t bytes = ((n * sizeof(T) + kAlign - 1) / kAlign) * kAlign;
    void* p = std::aligned_alloc(kAlign, bytes ? bytes : kAlign);
    if (!p) throw std::bad_alloc();
    return static_cast<T*>(p);
  }
  void deallocate(T* p, size_t) { std::free(p); }
  template <class U>
  bool operator==(const AlignedAllocator<U>&) const { return true; }
};

template <class T>
using AlignedVector = std::vector<T, AlignedAllocator<T>>;

struct TensorView {
  float* data = nullptr;
  Shape shape;
  int64_t size() const { return numel(shape); }
  std::span<float> span() const { return {data, static_cast<size_t>(size())}; }
};

class Tensor {
 public:
  Tensor() = default;
  explicit Tensor(Shape shape, float fill = 0.0f)
      : shape_(std::move(shape)), data_(static_cast<size_t>(numel(shape_)), fill) {}

  const Shape& shape() const { return shape_; }
  int64_t size() const { return static_cast<int64_t>(data_.size()); }
  float* data() { return data_.data(); }
  const float* data() const { return data_.data(); }
  float& operator[](int64_t i) { return data_[static_cast<size_t>(i)]; }
  float operator[](int64_t i) const { return data_[static_cast<size_t>(i)]; }
  std::span<float> span() { return {data_.data(), data_.size()}; }
  std::span<const float> span() const { return {data_.data(), data_.size()}; }
  TensorView view() { return {data_.data(), shape_}; }

  // Changes the shape; reallocates only when the element count grows beyond capacity.
  void resize(Shape shape) {
    shape_ = std::move(shape);
    data_.resize(static_cast<size_t>(numel(shape_)));
  }

 private:
  Shape shape_;
  AlignedVector<float> data_;
};

}  // namespace sculpt

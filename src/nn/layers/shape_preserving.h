// Base for layers whose output has the input's shape (activations, dropout): bind() is the
// identity and describe() prints "name Kind".
#pragma once

#include <fmt/format.h>

#include <string>

#include "nn/layer.h"

namespace sculpt::nn {

class ShapePreserving : public Layer {
 public:
  ShapePreserving(std::string name, std::string title)
      : Layer(std::move(name)), title_(std::move(title)) {}
  std::string describe() const override { return fmt::format("{} {}", name(), title_); }
  Shape bind(const Shape& in) override {
    in_ = in;
    out_ = in;
    return out_;
  }

 protected:
  int64_t width() const { return numel(in_); }  // features per sample

 private:
  std::string title_;
};

}  // namespace sculpt::nn

// add and concat; and the single-input calls of a MergeLayer, which a model never makes.
#include "nn/layers/merge.h"

#include <fmt/format.h>

#include <algorithm>

#include "core/error.h"
#include "core/parallel.h"

namespace sculpt::nn {

Shape MergeLayer::bind(const Shape& in) {
  throw ConfigError(fmt::format("layer '{}' ({}) takes several inputs, got {} alone", name(),
                                kind(), to_string(in)),
                    "model.layers", "name its inputs: inputs = [\"a\", \"b\"]");
}
void MergeLayer::forward(ParamStore&, const float*, float*, int64_t, const Pass&) {
  throw Error(fmt::format("layer '{}' ({}) was run with one input", name(), kind()));
}
void MergeLayer::backward(ParamStore&, const float*, const float*, const float*, float*, int64_t) {
  throw Error(fmt::format("layer '{}' ({}) was run with one input", name(), kind()));
}

namespace {
std::string shapes_text(const std::vector<Shape>& in) {
  std::string s;
  for (const Shape& x : in) s += (s.empty() ? "" : ", ") + to_string(x);
  return s;
}
}  // namespace

std::string Add::describe() const { return fmt::format("{} Add({} inputs)", name(), inputs_); }

Shape Add::bind_inputs(const std::vector<Shape>& in) {
  SCULPT_CHECK(in.size() >= 2, ConfigError,
               fmt::format("layer '{}' (add) needs at least 2 inputs, got {}", name(), in.size()),
               "model.layers", "name them: inputs = [\"a\", \"b\"]");
  for (const Shape& x : in)
    SCULPT_CHECK(x == in[0], ShapeError,
                 fmt::format("layer '{}' (add) adds inputs of different shapes: {}", name(),
                             shapes_text(in)),
                 "model.layers",
                 "match the branches' channels and sizes (a 1x1 conv2d on the skip)");
  inputs_ = in.size();
  in_ = in[0];
  out_ = in[0];
  return out_;
}

void Add::forward_inputs(const std::vector<const float*>& xs, float* y, int64_t n) {
  const int64_t size = n * numel(out_);
  for_range(size, [&](int64_t b, int64_t e) {
    for (int64_t i = b; i < e; ++i) y[i] = xs[0][i] + xs[1][i];
    for (size_t k = 2; k < xs.size(); ++k)
      for (int64_t i = b; i < e; ++i) y[i] += xs[k][i];
  });
}

void Add::backward_inputs(const float* dy, const std::vector<float*>& dxs,
                          const std::vector<char>& assign, int64_t n) {
  const int64_t size = n * numel(out_);
  for_range(size, [&](int64_t b, int64_t e) {
    for (size_t k = 0; k < dxs.size(); ++k) {
      float* dx = dxs[k];
      if (!dx) continue;
      if (assign[k])
        std::copy(dy + b, dy + e, dx + b);
      else
        for (int64_t i = b; i < e; ++i) dx[i] += dy[i];
    }
  });
}

std::string Concat::describe() const {
  return fmt::format("{} Concat({} inputs -> {})", name(), widths_.size(), to_string(out_));
}

Shape Concat::bind_inputs(const std::vector<Shape>& in) {
  SCULPT_CHECK(
      in.size() >= 2, ConfigError,
      fmt::format("layer '{}' (concat) needs at least 2 inputs, got {}", name(), in.size()),
      "model.layers", "name them: inputs = [\"a\", \"b\"]");
  Shape out = in[0];
  widths_.clear();
  for (size_t k = 0; k < in.size(); ++k) {
    const bool fits = in[k].size() == in[0].size() &&
                      std::equal(in[k].begin() + 1, in[k].end(), in[0].begin() + 1);
    SCULPT_CHECK(fits, ShapeError,
                 fmt::format("layer '{}' (concat) joins inputs along the first axis, so the others "
                             "must match: {}",
                             name(), shapes_text(in)),
                 "model.layers", "pool or resize the branches to the same height and width");
    if (k > 0) out[0] += in[k][0];
    widths_.push_back(numel(in[k]));
  }
  in_ = in[0];
  out_ = out;
  return out_;
}

void Concat::forward_inputs(const std::vector<const float*>& xs, float* y, int64_t n) {
  const int64_t per = numel(out_);
  for (int64_t s = 0; s < n; ++s) {
    float* ys = y + s * per;
    for (size_t k = 0; k < xs.size(); ++k) {
      std::copy_n(xs[k] + s * widths_[k], widths_[k], ys);
      ys += widths_[k];
    }
  }
}

void Concat::backward_inputs(const float* dy, const std::vector<float*>& dxs,
                             const std::vector<char>& assign, int64_t n) {
  const int64_t per = numel(out_);
  for (int64_t s = 0; s < n; ++s) {
    const float* ds = dy + s * per;
    for (size_t k = 0; k < dxs.size(); ++k) {
      if (float* dx = dxs[k]) {
        float* d = dx + s * widths_[k];
        if (assign[k])
          std::copy(ds, ds + widths_[k], d);
        else
          for (int64_t j = 0; j < widths_[k]; ++j) d[j] += ds[j];
      }
      ds += widths_[k];
    }
  }
}

}  // namespace sculpt::nn

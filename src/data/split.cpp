// Subsets, random splits, first-N limits and the scalar standardiser.
#include "data/split.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <numeric>
#include <vector>

#include "core/error.h"

namespace sculpt::data {

Dataset subset(const Dataset& ds, std::span<const int64_t> indices, const std::string& name) {
  Dataset out;
  out.name = name;
  out.task = ds.task;
  out.sample_shape = ds.sample_shape;
  out.num_classes = ds.num_classes;
  out.num_targets = ds.num_targets;
  out.positions = ds.positions;
  const int64_t n = static_cast<int64_t>(indices.size()), pos = ds.positions;
  const int64_t ss = ds.sample_size();
  Shape xs{n};
  xs.insert(xs.end(), ds.sample_shape.begin(), ds.sample_shape.end());
  out.x = Tensor(xs);
  const bool regression = ds.task == Task::kRegression;
  if (regression)
    out.y = Tensor(Shape{n, ds.num_targets});
  else
    out.labels.resize(static_cast<size_t>(n * pos));
  for (int64_t i = 0; i < n; ++i) {
    const int64_t s = indices[static_cast<size_t>(i)];
    SCULPT_DCHECK(s >= 0 && s < ds.size());
    std::memcpy(out.x.data() + i * ss, ds.x.data() + s * ss, static_cast<size_t>(ss) * 4);
    if (regression) {
      std::memcpy(out.y.data() + i * ds.num_targets, ds.y.data() + s * ds.num_targets,
                  static_cast<size_t>(ds.num_targets) * 4);
    } else {
      std::copy_n(ds.labels.data() + s * pos, pos, out.labels.data() + i * pos);
    }
  }
  return out;
}

std::pair<Dataset, Dataset> split_off(const Dataset& ds, double fraction, Rng& rng) {
  SCULPT_CHECK(fraction >= 0.0 && fraction < 1.0, ConfigError,
               fmt::format("split fraction must be in [0, 1), got {}", fraction),
               "data.val_fraction / data.test_fraction");
  const int64_t n = ds.size();
  const int64_t k = std::llround(fraction * static_cast<double>(n));
  std::vector<int64_t> perm(static_cast<size_t>(n));
  std::iota(perm.begin(), perm.end(), int64_t{0});
  rng.shuffle(perm);
  std::vector<int64_t> carved(perm.begin(), perm.begin() + k);
  std::vector<int64_t> rest(perm.begin() + k, perm.end());
  std::sort(carved.begin(), carved.end());
  std::sort(rest.begin(), rest.end());
  return {subset(ds, rest, ds.name), subset(ds, carved, ds.name)};
}

Dataset take_first(const Dataset& ds, int64_t n) {
  SCULPT_CHECK(n >= 0, ConfigError, fmt::format("sample limit must be >= 0, got {}", n),
               "data.limit_train / data.limit_test");
  std::vector<int64_t> idx(static_cast<size_t>(std::min(n, ds.size())));
  std::iota(idx.begin(), idx.end(), int64_t{0});
  return subset(ds, idx, ds.name);
}

Normalizer fit_standard(const Dataset& train) {
  const std::span<const float> x = train.x.span();
  if (x.empty()) return {};
  double sum = 0.0;
  for (float v : x) sum += v;
  const double mean = sum / static_cast<double>(x.size());
  double sq = 0.0;
  for (float v : x) sq += (v - mean) * (v - mean);
  const double sd = std::sqrt(sq / static_cast<double>(x.size()));
  SCULPT_CHECK(std::isfinite(mean) && std::isfinite(sd), DataError,
               "features contain NaN or infinity", train.name);
  return {static_cast<float>(mean), sd > 1e-12 ? static_cast<float>(sd) : 1.0f};
}

void apply(const Normalizer& norm, Dataset& ds) {
  const float inv = 1.0f / norm.std;
  for (float& v : ds.x.span()) v = (v - norm.mean) * inv;
}

}  // namespace sculpt::data

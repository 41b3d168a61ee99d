// Generators for make_linear_regression and make_blobs (draw order is part of determinism:
// parameters first, then samples row by row).
#include "data/synthetic.h"

#include <cmath>
#include <string>
#include <utility>

#include "core/error.h"

namespace sculpt::data {

namespace {
void check_sizes(int64_t samples, int64_t min_samples, int64_t features) {
  SCULPT_CHECK(samples >= min_samples, ConfigError,
               fmt::format("data.samples must be >= {}, got {}", min_samples, samples),
               "data.samples");
  SCULPT_CHECK(features >= 1, ConfigError,
               fmt::format("data.features must be >= 1, got {}", features), "data.features");
  // A recipe line must not allocate gigabytes: at most 2^28 values (1 GiB).
  SCULPT_CHECK(samples <= (int64_t{1} << 28) / features, ConfigError,
               fmt::format("data.samples * data.features = {} * {} is more than the limit of "
                           "2^28 values",
                           samples, features),
               "data.samples");
}

// A dataset of `samples` rows of `features` values, not yet drawn.
Dataset tabular(std::string name, Task task, int64_t samples, int64_t features) {
  Dataset ds;
  ds.name = std::move(name);
  ds.task = task;
  ds.sample_shape = {features};
  ds.x = Tensor(Shape{samples, features});
  return ds;
}
}  // namespace

Dataset make_linear_regression(int64_t samples, int64_t features, double noise, Rng& rng,
                               std::vector<float>* true_w, float* true_b) {
  check_sizes(samples, 1, features);
  SCULPT_CHECK(noise >= 0.0 && std::isfinite(noise), ConfigError,
               fmt::format("data.noise must be >= 0, got {}", noise), "data.noise");
  std::vector<double> w(static_cast<size_t>(features));
  for (double& v : w) v = rng.uniform(-2.0, 2.0);
  const double b = rng.uniform(-1.0, 1.0);

  Dataset ds = tabular("synthetic-linear", Task::kRegression, samples, features);
  ds.num_targets = 1;
  ds.y = Tensor(Shape{samples, 1});
  for (int64_t i = 0; i < samples; ++i) {
    double dot = b;
    for (int64_t j = 0; j < features; ++j) {
      const float xv = static_cast<float>(rng.normal());
      ds.x[i * features + j] = xv;
      dot += static_cast<double>(xv) * w[static_cast<size_t>(j)];
    }
    ds.y[i] = static_cast<float>(dot + noise * rng.normal());
  }
  if (true_w) true_w->assign(w.begin(), w.end());
  if (true_b) *true_b = static_cast<float>(b);
  return ds;
}

Dataset make_blobs(int64_t samples, int64_t features, double separation, Rng& rng) {
  check_sizes(samples, 2, features);
  SCULPT_CHECK(separation >= 0.0 && std::isfinite(separation), ConfigError,
               fmt::format("data.separation must be >= 0, got {}", separation), "data.separation");
  // A random unit direction (normal vector normalised; retry in the measure-zero case of 0).
  std::vector<double> dir(static_cast<size_t>(features));
  double len = 0.0;
  while (len < 1e-12) {
    len = 0.0;
    for (double& v : dir) {
      v = rng.normal();
      len += v * v;
    }
    len = std::sqrt(len);
  }
  for (double& v : dir) v /= len;

  Dataset ds = tabular("synthetic-blobs", Task::kBinary, samples, features);
  ds.num_classes = 2;
  ds.labels.resize(static_cast<size_t>(samples));
  for (int64_t i = 0; i < samples; ++i) {
    const int32_t label = static_cast<int32_t>(i % 2);
    const double sign = label == 0 ? -0.5 : 0.5;
    for (int64_t j = 0; j < features; ++j) {
      const double centre = sign * separation * dir[static_cast<size_t>(j)];
      ds.x[i * features + j] = static_cast<float>(centre + rng.normal());
    }
    ds.labels[static_cast<size_t>(i)] = label;
  }
  return ds;
}

}  // namespace sculpt::data

// The pruning criteria. Each is a few lines: what it accumulates from gradients (if anything)
// and how it scores an entry. Higher scores are kept.
#include "prune/criterion.h"

#include <cmath>
#include <functional>
#include <type_traits>

#include "core/error.h"
#include "core/registry.h"
#include "core/rng.h"

namespace sculpt::prune {

namespace {

// An element-wise criterion: per batch (or step) stat[i] = Add(stat[i], w[i], g[i]), then
// score[i] = Score(stat[i], w[i]). Add is nullptr for criteria of the weights alone (their stat
// is empty and Score ignores it).
using AddFn = float (*)(float stat, float w, float g);
using ScoreFn = float (*)(float stat, float w);

template <AddFn Add, ScoreFn Score>
class Elementwise final : public Criterion {
 public:
  using Criterion::Criterion;
  void accumulate(const ParamStore& ps, std::span<float> stat) const override {
    if constexpr (Add != nullptr) {
      const auto w = ps.values();
      const auto g = ps.grads();
      for (size_t i = 0; i < stat.size(); ++i) stat[i] = Add(stat[i], w[i], g[i]);
    }
  }
  void score(const ParamStore& ps, std::span<const float> stat,
             std::span<float> out) const override {
    const auto w = ps.values();
    for (size_t i = 0; i < out.size(); ++i) out[i] = Score(stat.empty() ? 0.0f : stat[i], w[i]);
  }
};

// |w|: the seed's `|w| <= eps` pruning and the standard baseline (Han et al. 2015).
float abs_weight(float, float w) { return std::fabs(w); }
using Magnitude = Elementwise<nullptr, abs_weight>;

float the_stat(float stat, float) { return stat; }

// Sum over batches of |dL/dw|: entries the loss is insensitive to go first.
float add_abs_grad(float stat, float, float g) { return stat + std::fabs(g); }
using Gradient = Elementwise<add_abs_grad, the_stat>;

// |w * sum over batches of dL/dw|: the first-order Taylor estimate of the loss change when w
// is set to 0 (Molchanov et al. 2017/2019). SNIP is the same score taken at initialisation.
float add_grad(float stat, float, float g) { return stat + g; }
float abs_weight_times(float stat, float w) { return std::fabs(w * stat); }
using Taylor = Elementwise<add_grad, abs_weight_times>;

// -sum over steps of w * dL/dw (Sanh et al. 2020): weights moving away from zero score high.
float sub_weight_grad(float stat, float w, float g) { return stat - w * g; }
using Movement = Elementwise<sub_weight_grad, the_stat>;

// 1/2 w^2 times the sum over batches of (dL/dw)^2: the loss increase a diagonal empirical
// Fisher approximation predicts when w is set to 0 (Theis et al. 2018). Unlike taylor it does
// not cancel gradients of opposite sign across batches.
float add_grad_squared(float stat, float, float g) { return stat + g * g; }
float half_weight_squared_times(float stat, float w) { return 0.5f * w * w * stat; }
using Fisher = Elementwise<add_grad_squared, half_weight_squared_times>;

// Uniform scores from the seed: the baseline every criterion must beat.
class Random : public Criterion {
 public:
  Random(CriterionInfo info, uint64_t seed) : Criterion(std::move(info)), key_(splitmix64(seed)) {}
  void score(const ParamStore&, std::span<const float>, std::span<float> out) const override {
    for (size_t i = 0; i < out.size(); ++i) out[i] = counter_uniform(key_, i);
  }

 private:
  uint64_t key_;
};

}  // namespace

void Criterion::accumulate(const ParamStore&, std::span<float>) const {}

namespace {

struct Row {
  CriterionInfo info;
  std::function<std::unique_ptr<Criterion>(const CriterionInfo&, uint64_t seed)> make;
};

template <class C>
Row row(CriterionInfo info) {
  return {std::move(info), [](const CriterionInfo& i, uint64_t seed) {
            if constexpr (std::is_constructible_v<C, CriterionInfo, uint64_t>)
              return std::make_unique<C>(i, seed);
            else
              return std::make_unique<C>(i);
          }};
}

const Registry<Row>& registry() {
  static const Registry<Row> r(
      "prune.criterion",
      {
          row<Magnitude>({"magnitude", "Magnitude", "score = |w|",
                          "Han et al. 2015, Learning both Weights and Connections",
                          Needs::kWeights}),
          row<Gradient>({"gradient", "Gradient", "score = sum over batches of |dL/dw|",
                         "the seed's gradient pruning", Needs::kGradients}),
          row<Taylor>({"taylor", "First-order Taylor", "score = |w * sum over batches of dL/dw|",
                       "Molchanov et al. 2019, Importance Estimation for Neural Network Pruning",
                       Needs::kGradients}),
          row<Taylor>({"snip", "SNIP", "score = |w * dL/dw| at initialisation, one batch",
                       "Lee et al. 2019, SNIP: Single-shot Network Pruning", Needs::kGradients}),
          row<Fisher>({"fisher", "Fisher", "score = 1/2 w^2 * sum over batches of (dL/dw)^2",
                       "Theis et al. 2018, Faster gaze prediction with dense networks and Fisher "
                       "pruning",
                       Needs::kGradients}),
          row<Movement>({"movement", "Movement", "score = -sum over training steps of w * dL/dw",
                         "Sanh et al. 2020, Movement Pruning", Needs::kTraining}),
          row<Random>(
              {"random", "Random", "score = uniform(seed, i)", "the baseline", Needs::kWeights}),
      });
  return r;
}

}  // namespace

const std::vector<CriterionInfo>& criteria() { return registry().infos(); }

std::vector<std::string> criterion_names() { return registry().names(); }

std::unique_ptr<Criterion> make_criterion(const std::string& name, uint64_t seed) {
  const Row& r = registry().find(name);
  return r.make(r.info, seed);
}

}  // namespace sculpt::prune

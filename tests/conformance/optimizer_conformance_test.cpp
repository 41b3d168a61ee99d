// Every optimizer in the registry, in every variant it has (SGD's momentum forms and Nesterov,
// RMSprop centered and with momentum, Adam with AMSGrad, ...), each without weight decay and
// with it in every decay_style: it descends on a convex quadratic and on Rosenbrock; lr = 0
// changes nothing; frozen groups keep their weights and state bit for bit; save -> load ->
// continue equals an uninterrupted run bit for bit (also above the OpenMP threshold, and the
// same with 1 and 2 threads); pruning masks hold through momentum and decay; and bad options
// are rejected with the field's name.
#include <fmt/format.h>
#include <gtest/gtest.h>
#include <omp.h>

#include <bit>
#include <cmath>
#include <cstring>
#include <limits>
#include <map>
#include <string>
#include <vector>

#include "core/error.h"
#include "core/masks.h"
#include "core/parallel.h"
#include "core/param_store.h"
#include "core/rng.h"
#include "io/recipe.h"
#include "optim/optimizer.h"

namespace sculpt::optim {
namespace {

// ---- Variants ----------------------------------------------------------------------------

using Opts = std::vector<std::pair<std::string, FieldValue>>;

struct Variant {
  std::string label;  // "sgd nesterov wd decoupled"
  std::string name;   // registry name
  Opts options;
  bool decays = false;  // weight_decay > 0

  OptimConfig config(double lr) const {
    OptimConfig c;
    c.name = name;
    for (const auto& [k, v] : options) c.set(k, v);
    c.set("lr", lr);
    return c;
  }
};

struct Form {
  std::string label;
  Opts options;
};

// The forms of each optimizer beyond its defaults. An optimizer missing here is still covered
// with its defaults (every test iterates optimizer_names()).
const std::map<std::string, std::vector<Form>>& extra_forms() {
  static const std::map<std::string, std::vector<Form>> forms = {
      {"sgd",
       {{"momentum", {{"momentum", 0.9}}},
        {"nesterov", {{"momentum", 0.9}, {"nesterov", true}}},
        {"dampened", {{"momentum", 0.9}, {"dampening", 0.5}}},
        {"ema", {{"momentum", 0.9}, {"momentum_form", std::string("ema")}}},
        {"ema nesterov",
         {{"momentum", 0.9}, {"momentum_form", std::string("ema")}, {"nesterov", true}}}}},
      {"adagrad", {{"lr_decay+init", {{"lr_decay", 1e-3}, {"initial_accumulator", 0.1}}}}},
      {"rmsprop",
       {{"centered", {{"centered", true}}},
        {"momentum", {{"momentum", 0.9}}},
        {"centered+momentum", {{"centered", true}, {"momentum", 0.9}}}}},
      {"adam", {{"amsgrad", {{"amsgrad", true}}}}},
  };
  return forms;
}

// Weight decay used by every test: small enough that the minimum of the decayed problem stays
// near the undecayed one, large enough to change the bits of every step. decoupled-schedule
// shrinks the weights by wd itself at the base rate (the others by about lr*wd, or pull with
// wd*w through the gradient), so it gets a 10x smaller coefficient.
struct DecayStyle {
  const char* name;
  double weight_decay;
};
const DecayStyle kDecayStyles[] = {{"l2", 1e-3}, {"decoupled", 1e-3}, {"decoupled-schedule", 1e-4}};

// Each form without weight decay and with it in each decay style.
std::vector<Variant> variants_of(const std::string& name) {
  std::vector<Form> forms = {{"", {}}};
  if (auto it = extra_forms().find(name); it != extra_forms().end())
    forms.insert(forms.end(), it->second.begin(), it->second.end());
  std::vector<Variant> out;
  for (const Form& form : forms) {
    const std::string base = form.label.empty() ? name : name + " " + form.label;
    Variant plain{base, name, form.options};
    plain.options.emplace_back("weight_decay", 0.0);
    out.push_back(plain);
    for (const DecayStyle& style : kDecayStyles) {
      Variant v{base + " wd " + style.name, name, form.options, true};
      v.options.emplace_back("weight_decay", style.weight_decay);
      v.options.emplace_back("decay_style", std::string(style.name));
      out.push_back(v);
    }
  }
  return out;
}

std::vector<Variant> all_variants() {
  std::vector<Variant> out;
  for (const std::string& name : optimizer_names())
    for (Variant& v : variants_of(name)) out.push_back(std::move(v));
  return out;
}

// ---- Learning rates ----------------------------------------------------------------------
//
// Each optimizer's registry row gives its two rates (TestRates in src/optim/registry.cpp; a row
// without them fails the descent tests). Why each value: it sits well inside the stable range
// of its rule on the two problems:
//
// Quadratic (curvatures a in [0.5, 4], each weight within 2 of its minimum, 500 steps; the test
// asks for 1e-3 of the starting loss, the worst variant reaches ~1e-4):
//   sgd 0.1      plain: lr*a <= 0.4 < 2 and the flattest weight contracts by 1 - 0.05 per step;
//                pytorch-form momentum 0.9 (heavy ball): lr*a <= 0.4 < 2(1 + mu) and
//                lr*a >= 0.05 > (1 - sqrt(mu))^2, so every weight contracts like sqrt(mu) per
//                step; the ema form scales the step by 1 - mu, (1-mu)*lr*a >= 0.005 still
//                exceeds (1 - sqrt(mu))^2 = 0.0027
//   adagrad 0.5  the first step moves each weight by lr and steps shrink like lr/sqrt(t): the
//                sum of steps covers a distance of 2 within a few dozen steps
//   rmsprop 0.01 adaptive rules move ~lr per step while far away (g/sqrt(E g^2) ~ 1): ~100
//   adam    0.02 steps to cover the distance, then the steps shrink with the gradient; with
//   nadam   0.02 momentum RMSprop integrates 1/(1 - mu) = 10 steps, hence a 10x smaller rate
//   lion    0.01 a sign rule moves every weight by exactly lr per step, so it ends within
//                about lr of the minimum (residual loss ~ a*lr^2/2 per weight, ~1e-4 relative)
//
// Rosenbrock (f = (1-x)^2 + 100(y-x^2)^2 from (-1.2, 1), f0 = 24.2, 5000 steps; curvature up to
// ~1300 at the start, the valley floor nearly flat; the test asks for f < 0.5, i.e. past the
// origin (f = 1) along the valley towards (1, 1), the worst variant reaches ~0.2):
//   sgd 1e-3     plain SGD needs lr*1300 < 2; the ema form's steady step is lr*g as well
//                (v -> g), pytorch-form momentum's is lr*g/(1 - mu) = 10x that, hence 1e-4 for
//                those variants
//   adagrad 0.3  the accumulated squares of the first steep gradients shrink every later step,
//                so it needs a large rate to walk the valley
//   rmsprop 1e-3 the normalisation removes the curvature: lr is roughly the step length along
//   adam    0.01 the ~2.2 long valley; RMSprop, without momentum to average the zig-zag, bounces
//   nadam   0.01 across the narrow valley at a higher floor with larger rates (f ~ 0.02 at 0.01)
//   lion    1e-3 every coordinate moves exactly lr per step (at most 5 in 5000 steps) and ends
//                within about lr of (1, 1); at 0.05 it bounces across the valley at f ~ 0.5
// Optimizers added later give the same account beside their row in src/optim/registry.cpp.
struct Rates {
  double quadratic;
  double rosenbrock;
};

// The rates come from the optimizer's registry row (OptimizerInfo::test_lr_*).
Rates rates_for(const Variant& v) {
  const auto info = std::find_if(optimizer_infos().begin(), optimizer_infos().end(),
                                 [&](const OptimizerInfo& i) { return i.name == v.name; });
  if (info == optimizer_infos().end() || info->test_lr_quadratic <= 0 ||
      info->test_lr_rosenbrock <= 0) {
    ADD_FAILURE() << "no conformance rates for optimizer '" << v.name
                  << "': give its registry row in src/optim/registry.cpp its TestRates";
    return {1e-3, 1e-4};
  }
  Rates r{info->test_lr_quadratic, info->test_lr_rosenbrock};
  const auto has = [&](const char* key) {
    return std::any_of(v.options.begin(), v.options.end(),
                       [&](const auto& o) { return o.first == key; });
  };
  const bool ema = std::any_of(v.options.begin(), v.options.end(), [](const auto& o) {
    return o.first == "momentum_form" && std::get<std::string>(o.second) == "ema";
  });
  if (v.name == "sgd" && has("momentum") && !ema) r.rosenbrock /= 10;  // integrates 1/(1 - mu)
  if (v.name == "rmsprop" && has("momentum")) r.quadratic /= 10, r.rosenbrock /= 10;  // likewise
  return r;
}

// ---- Problems ----------------------------------------------------------------------------

// 0.5 * sum a_i (w_i - c_i)^2 over every tensor of a ParamStore, a in [0.5, 4], c in [-1, 1].
struct Quadratic {
  std::vector<float> a, c;  // parallel to the arena (padding: a = c = 0)

  explicit Quadratic(const ParamStore& ps, uint64_t seed = 7) {
    a.assign(size_t(ps.arena_size()), 0.0f);
    c.assign(a.size(), 0.0f);
    for (const ParamEntry& e : ps.entries())
      for (int64_t i = e.offset; i < e.offset + e.size; ++i) {
        a[size_t(i)] = 0.5f + 3.5f * counter_uniform(seed, uint64_t(2 * i));
        c[size_t(i)] = 2.0f * counter_uniform(seed, uint64_t(2 * i + 1)) - 1.0f;
      }
  }
  double loss(const ParamStore& ps) const {
    double s = 0;
    const auto w = ps.values();
    for (size_t i = 0; i < a.size(); ++i) {
      const double d = double(w[i]) - double(c[i]);
      s += 0.5 * double(a[i]) * d * d;
    }
    return s;
  }
  void gradient(ParamStore& ps) const {
    const auto w = ps.values();
    auto g = ps.grads();
    for (const ParamEntry& e : ps.entries())
      for (int64_t i = e.offset; i < e.offset + e.size; ++i)
        g[size_t(i)] = a[size_t(i)] * (w[size_t(i)] - c[size_t(i)]);
  }
};

// fc1.weight, fc1.bias (decays = false) and fc2.weight; starting weights in [-1, 1].
ParamStore make_params(int64_t w1 = 200, int64_t b1 = 24, int64_t w2 = 90, uint64_t seed = 3) {
  ParamStore ps;
  ps.add("fc1.weight", {w1});
  ps.add("fc1.bias", {b1}, {.decays = false, .prunable = false});
  ps.add("fc2.weight", {w2});
  ps.finalize();
  for (size_t t = 0; t < ps.count(); ++t) {
    auto v = ps.value_span(t);
    for (size_t i = 0; i < v.size(); ++i) v[i] = 2.0f * counter_uniform(seed + t, i) - 1.0f;
  }
  return ps;
}

double rosenbrock(const float* w) {
  const double x = w[0], y = w[1];
  return (1 - x) * (1 - x) + 100 * (y - x * x) * (y - x * x);
}
void rosenbrock_grad(const float* w, float* g) {
  const float x = w[0], y = w[1];
  g[0] = -2.0f * (1.0f - x) - 400.0f * x * (y - x * x);
  g[1] = 200.0f * (y - x * x);
}

// A schedule that varies from step to step, so decoupled-schedule's multiplier lr_t/lr != 1.
double scheduled(double base, int64_t step) { return base * (1.0 - 0.4 * double(step % 10) / 10); }

// ---- Bit-exact comparison ----------------------------------------------------------------

::testing::AssertionResult same_bits(std::span<const float> x, std::span<const float> y) {
  if (x.size() != y.size())
    return ::testing::AssertionFailure() << "sizes " << x.size() << " vs " << y.size();
  for (size_t i = 0; i < x.size(); ++i)
    if (std::bit_cast<uint32_t>(x[i]) != std::bit_cast<uint32_t>(y[i]))
      return ::testing::AssertionFailure()
             << "first difference at " << i << ": " << fmt::format("{:.9g} vs {:.9g}", x[i], y[i]);
  return ::testing::AssertionSuccess();
}

using StateCopy = std::vector<std::pair<std::string, std::vector<float>>>;

StateCopy copy_state(Optimizer& opt) {
  StateCopy out;
  for (const StateArray& s : opt.state())
    out.emplace_back(s.name, std::vector<float>(s.data->begin(), s.data->end()));
  return out;
}

// Restores by name; every saved array must exist in `opt` with the same length and vice versa.
void restore_state(Optimizer& opt, const StateCopy& saved) {
  std::vector<StateArray> dst = opt.state();
  ASSERT_EQ(dst.size(), saved.size());
  for (const auto& [name, data] : saved) {
    auto it =
        std::find_if(dst.begin(), dst.end(), [&](const StateArray& s) { return s.name == name; });
    ASSERT_NE(it, dst.end()) << name;
    ASSERT_EQ(it->data->size(), data.size()) << name;
    std::copy(data.begin(), data.end(), it->data->begin());
  }
}

class ThreadCount {  // restores the OpenMP thread count on scope exit
 public:
  explicit ThreadCount(int n) : saved_(omp_get_max_threads()) { omp_set_num_threads(n); }
  ~ThreadCount() { omp_set_num_threads(saved_); }

 private:
  int saved_;
};

// ---- Tests -------------------------------------------------------------------------------

TEST(OptimizerConformance, RegistryListsOptimizersWithVariants) {
  const auto names = optimizer_names();
  ASSERT_FALSE(names.empty());
  EXPECT_EQ(names.size(), optimizer_infos().size());
  for (const auto& [name, forms] : extra_forms())
    EXPECT_NE(std::find(names.begin(), names.end(), name), names.end())
        << "variants listed for an optimizer the registry does not have: " << name;
  for (const Variant& v : all_variants()) {
    EXPECT_NO_THROW(resolve_options(v.config(0.01))) << v.label;
  }
}

TEST(OptimizerConformance, DescendsOnAConvexQuadratic) {
  constexpr int kSteps = 500;  // rates and margins: see rates_for()
  for (const Variant& v : all_variants()) {
    const Rates r = rates_for(v);
    ParamStore ps = make_params();
    const Quadratic q(ps);
    auto opt = make_optimizer(v.config(r.quadratic), ps);
    const double before = q.loss(ps);
    for (int s = 0; s < kSteps; ++s) {
      q.gradient(ps);
      opt->step(ps, r.quadratic, s);
    }
    const double after = q.loss(ps);
    EXPECT_TRUE(std::isfinite(after)) << v.label;
    EXPECT_LT(after, 1e-3 * before) << v.label << ": " << before << " -> " << after;
  }
}

TEST(OptimizerConformance, DescendsOnRosenbrock) {
  constexpr int kSteps = 5000;  // rates and margins: see rates_for()
  for (const Variant& v : all_variants()) {
    const Rates r = rates_for(v);
    ParamStore ps;
    ps.add("xy", {2});
    ps.finalize();
    float* w = ps.value(0);
    w[0] = -1.2f, w[1] = 1.0f;
    auto opt = make_optimizer(v.config(r.rosenbrock), ps);
    const double before = rosenbrock(w);
    for (int s = 0; s < kSteps; ++s) {
      rosenbrock_grad(w, ps.grad(0));
      opt->step(ps, r.rosenbrock, s);
    }
    const double after = rosenbrock(w);
    EXPECT_TRUE(std::isfinite(after)) << v.label;
    EXPECT_LT(after, 0.5) << v.label << ": " << before << " -> " << after << " at (" << w[0] << ", "
                          << w[1] << ")";
  }
}

// lr = 0 as the recipe's rate and as the scheduled rate: not one bit of any weight changes,
// whatever the weight decay style.
TEST(OptimizerConformance, ZeroLearningRateChangesNothing) {
  for (const Variant& v : all_variants()) {
    for (double base : {0.0, 0.05}) {
      ParamStore ps = make_params();
      const std::vector<float> start(ps.values().begin(), ps.values().end());
      const Quadratic q(ps);
      auto opt = make_optimizer(v.config(base), ps);
      for (int s = 0; s < 20; ++s) {
        q.gradient(ps);
        opt->step(ps, 0.0, s);
      }
      EXPECT_TRUE(same_bits(ps.values(), start)) << v.label << " base lr " << base;
    }
  }
}

// A frozen group: its tensor and its slice of every state array keep their bits; others move.
TEST(OptimizerConformance, FrozenGroupsStayUnchanged) {
  for (const Variant& v : all_variants()) {
    ParamStore ps = make_params();
    const Quadratic q(ps);
    OptimConfig cfg = v.config(rates_for(v).quadratic);
    ParamGroupConfig frozen;
    frozen.params = {"fc2.*"};
    frozen.frozen = true;
    cfg.groups.push_back(frozen);
    auto opt = make_optimizer(cfg, ps);
    const size_t fc2 = *ps.find("fc2.weight");
    const ParamEntry& e = ps.entry(fc2);
    const std::vector<float> w0(ps.value_span(fc2).begin(), ps.value_span(fc2).end());
    const StateCopy s0 = copy_state(*opt);
    std::vector<float> others0;
    for (size_t t = 0; t < ps.count(); ++t)
      if (t != fc2) others0.insert(others0.end(), ps.value_span(t).begin(), ps.value_span(t).end());
    for (int s = 0; s < 10; ++s) {
      q.gradient(ps);
      opt->step(ps, rates_for(v).quadratic, s);
    }
    EXPECT_TRUE(same_bits(ps.value_span(fc2), w0)) << v.label;
    const StateCopy s1 = copy_state(*opt);
    ASSERT_EQ(s0.size(), s1.size());
    for (size_t k = 0; k < s0.size(); ++k) {
      const auto slice = [&](const std::vector<float>& a) {
        return std::span<const float>(a.data() + e.offset, size_t(e.size));
      };
      EXPECT_TRUE(same_bits(slice(s1[k].second), slice(s0[k].second)))
          << v.label << " " << s0[k].first;
    }
    std::vector<float> others1;
    for (size_t t = 0; t < ps.count(); ++t)
      if (t != fc2) others1.insert(others1.end(), ps.value_span(t).begin(), ps.value_span(t).end());
    size_t moved = 0;
    for (size_t i = 0; i < others0.size(); ++i) moved += others0[i] != others1[i];
    EXPECT_GT(moved, others0.size() * 9 / 10) << v.label;
  }
}

// Runs `steps` steps from `first` with the quadratic's gradients and the varying schedule.
void run(Optimizer& opt, ParamStore& ps, const Quadratic& q, double base, int64_t first,
         int64_t steps) {
  for (int64_t s = first; s < first + steps; ++s) {
    q.gradient(ps);
    opt.step(ps, scheduled(base, s), s);
  }
}

OptimConfig resume_config(const Variant& v) {
  OptimConfig cfg = v.config(rates_for(v).quadratic);
  ParamGroupConfig slower;  // groups take part in resume too
  slower.params = {"fc2.*"};
  slower.lr_scale = 0.5;
  cfg.groups.push_back(slower);
  return cfg;
}

struct RunResult {
  std::vector<float> weights;
  StateCopy state;
};

RunResult uninterrupted(const Variant& v, int64_t w1, int64_t steps) {
  ParamStore ps = make_params(w1);
  const Quadratic q(ps);
  const OptimConfig cfg = resume_config(v);
  auto opt = make_optimizer(cfg, ps);
  run(*opt, ps, q, base_lr(cfg), 0, steps);
  return {std::vector<float>(ps.values().begin(), ps.values().end()), copy_state(*opt)};
}

// K steps, save weights and state, a fresh optimizer (make_optimizer) over a fresh store, load,
// M more steps with the step counter continuing at K.
RunResult resumed(const Variant& v, int64_t w1, int64_t k, int64_t m) {
  const OptimConfig cfg = resume_config(v);
  std::vector<float> saved_w;
  StateCopy saved_s;
  {
    ParamStore ps = make_params(w1);
    const Quadratic q(ps);
    auto opt = make_optimizer(cfg, ps);
    run(*opt, ps, q, base_lr(cfg), 0, k);
    saved_w.assign(ps.values().begin(), ps.values().end());
    saved_s = copy_state(*opt);
  }
  ParamStore ps = make_params(w1, 24, 90, /*seed=*/99);  // different start: all of it is loaded
  const Quadratic q(ps);
  auto opt = make_optimizer(cfg, ps);
  std::copy(saved_w.begin(), saved_w.end(), ps.values().begin());
  restore_state(*opt, saved_s);
  if (::testing::Test::HasFatalFailure()) return {};
  run(*opt, ps, q, base_lr(cfg), k, m);
  return {std::vector<float>(ps.values().begin(), ps.values().end()), copy_state(*opt)};
}

void expect_same(const RunResult& x, const RunResult& y, const std::string& what) {
  EXPECT_TRUE(same_bits(x.weights, y.weights)) << what << " weights";
  ASSERT_EQ(x.state.size(), y.state.size()) << what;
  for (size_t i = 0; i < x.state.size(); ++i) {
    EXPECT_EQ(x.state[i].first, y.state[i].first) << what;
    EXPECT_TRUE(same_bits(x.state[i].second, y.state[i].second)) << what << " " << x.state[i].first;
  }
}

TEST(OptimizerConformance, ResumeEqualsAnUninterruptedRunBitForBit) {
  for (const Variant& v : all_variants()) {
    for (auto [k, m] : {std::pair<int64_t, int64_t>{1, 6}, {5, 10}}) {
      expect_same(resumed(v, 200, k, m), uninterrupted(v, 200, k + m),
                  fmt::format("{} K={} M={}", v.label, k, m));
    }
  }
}

// Above kParallelThreshold the fused pass runs in an OpenMP region: resume is still exact, and
// the result does not depend on the thread count.
TEST(OptimizerConformance, ResumeIsExactAndThreadCountFreeOnTheParallelPath) {
  const int64_t w1 = kParallelThreshold + 3;  // odd: the last chunk ends inside a 16-float block
  ASSERT_GT(make_params(w1).arena_size(), kParallelThreshold);
  for (const Variant& v : all_variants()) {
    RunResult one, two;
    {
      ThreadCount threads(1);
      one = uninterrupted(v, w1, 8);
    }
    {
      ThreadCount threads(2);
      two = uninterrupted(v, w1, 8);
      expect_same(resumed(v, w1, 3, 5), two, v.label + " resumed, 2 threads");
    }
    expect_same(one, two, v.label + " 1 vs 2 threads");
  }
}

// The architecture's order with pruning: masks.apply_to_grads, step, masks.apply_to_weights;
// after a mask changes, on_mask_change. Masked weights stay exactly 0 and so does every state
// entry under a zero mask.
TEST(OptimizerConformance, MasksHoldThroughMomentumAndDecay) {
  for (const Variant& v : all_variants()) {
    if (!v.decays) continue;
    ParamStore ps = make_params();
    const Quadratic q(ps);
    auto opt = make_optimizer(v.config(rates_for(v).quadratic), ps);
    Masks masks;
    masks.init(ps);
    const auto check = [&](const char* when) {
      const float* keep = masks.keep_data();
      const auto w = ps.values();
      int64_t masked = 0;
      for (int64_t i = 0; i < ps.arena_size(); ++i) {
        if (keep[i] != 0.0f) continue;
        ++masked;
        ASSERT_EQ(w[size_t(i)], 0.0f) << v.label << " " << when << " weight " << i;
        for (const StateArray& s : opt->state())
          ASSERT_EQ((*s.data)[size_t(i)], 0.0f)
              << v.label << " " << when << " " << s.name << " " << i;
      }
      EXPECT_GT(masked, 0) << v.label;
    };
    const auto prune_half = [&](size_t tensor, uint64_t key) {
      const ParamEntry& e = ps.entry(tensor);
      for (int64_t i = 0; i < e.size; ++i)
        if (counter_uniform(key, uint64_t(i)) < 0.5f) masks.keep()[size_t(e.offset + i)] = 0.0f;
      masks.apply_to_weights(ps);
      opt->on_mask_change(masks);
    };
    for (int s = 0; s < 100; ++s) {
      if (s == 20) {
        prune_half(*ps.find("fc1.weight"), 11);
        check("after the first mask change");
      }
      if (s == 60) {
        prune_half(*ps.find("fc2.weight"), 12);
        check("after the second mask change");
      }
      q.gradient(ps);
      masks.apply_to_grads(ps);
      opt->step(ps, rates_for(v).quadratic, s);
      masks.apply_to_weights(ps);
    }
    check("after 100 steps");
  }
}

// The trainer's fused path, Optimizer::step with the masks (the weights masked inside the
// update's pass), gives the same bits as the step followed by masks.apply_to_weights, for every
// optimizer: one tensor half pruned, the bias too, on the parallel path with 2 threads.
TEST(OptimizerConformance, TheFusedMaskIsTheSeparatePass) {
  ThreadCount threads(2);
  const int64_t w1 = kParallelThreshold + 3;
  for (const Variant& v : all_variants()) {
    ParamStore fused = make_params(w1), separate = make_params(w1);
    const Quadratic q(fused);
    auto opt_f = make_optimizer(v.config(rates_for(v).quadratic), fused);
    auto opt_s = make_optimizer(v.config(rates_for(v).quadratic), separate);
    Masks masks;
    masks.init(fused);
    for (const char* name : {"fc1.weight", "fc1.bias"}) {
      const ParamEntry& e = fused.entry(*fused.find(name));
      for (int64_t i = 0; i < e.size; ++i)
        if (counter_uniform(13, uint64_t(i)) < 0.5f) masks.keep()[size_t(e.offset + i)] = 0.0f;
    }
    for (ParamStore* ps : {&fused, &separate}) masks.apply_to_weights(*ps);  // as a prune does
    opt_f->on_mask_change(masks);
    opt_s->on_mask_change(masks);
    for (int s = 0; s < 12; ++s) {
      for (ParamStore* ps : {&fused, &separate}) {
        q.gradient(*ps);
        masks.apply_to_grads(*ps);
      }
      opt_f->step(fused, rates_for(v).quadratic, s, &masks);
      opt_s->step(separate, rates_for(v).quadratic, s);
      masks.apply_to_weights(separate);
      ASSERT_TRUE(
          std::equal(fused.values().begin(), fused.values().end(), separate.values().begin()))
          << v.label << " step " << s;
      for (size_t a = 0; a < opt_f->state().size(); ++a)
        ASSERT_TRUE(std::equal(opt_f->state()[a].data->begin(), opt_f->state()[a].data->end(),
                               opt_s->state()[a].data->begin()))
            << v.label << " " << opt_f->state()[a].name << " step " << s;
    }
  }
}

// ---- Invalid options ---------------------------------------------------------------------

// A range as Range::describe() prints it: ">= 0", "> 0", "<= 5", "< 5", "in [0, 1)"; "" is
// unbounded.
struct Allowed {
  double lo = -std::numeric_limits<double>::infinity();
  double hi = std::numeric_limits<double>::infinity();
  bool lo_open = false, hi_open = false;

  explicit Allowed(const std::string& text) {
    if (text.rfind(">= ", 0) == 0) {
      lo = std::stod(text.substr(3));
    } else if (text.rfind("> ", 0) == 0) {
      lo = std::stod(text.substr(2)), lo_open = true;
    } else if (text.rfind("<= ", 0) == 0) {
      hi = std::stod(text.substr(3));
    } else if (text.rfind("< ", 0) == 0) {
      hi = std::stod(text.substr(2)), hi_open = true;
    } else if (text.rfind("in ", 0) == 0) {
      const size_t comma = text.find(',');
      lo = std::stod(text.substr(4, comma - 4));
      hi = std::stod(text.substr(comma + 1, text.size() - comma - 2));
      lo_open = text[3] == '(', hi_open = text.back() == ')';
    } else if (!text.empty()) {
      ADD_FAILURE() << "unexpected range text '" << text << "'";
    }
  }
  bool contains(double v) const {
    return (lo_open ? v > lo : v >= lo) && (hi_open ? v < hi : v <= hi);
  }
};

// Values just outside a range as Range::describe() prints it, and NaN.
std::vector<double> outside(const std::string& allowed) {
  const Allowed a(allowed);
  const bool has_lo = std::isfinite(a.lo), has_hi = std::isfinite(a.hi);
  std::vector<double> out;
  if (has_lo && has_hi)
    out = {a.lo_open ? a.lo : a.lo - 0.1, a.hi_open ? a.hi : a.hi + 0.1};
  else if (has_lo)
    out = a.lo_open ? std::vector<double>{a.lo, a.lo - 1}
                    : std::vector<double>{a.lo - 1, a.lo - 1e-9};
  else if (has_hi)
    out = {a.hi_open ? a.hi : a.hi + 1};
  out.push_back(std::nan(""));
  return out;
}

// Expects both resolve_options and make_optimizer to throw ConfigError mentioning `needle`.
void expect_rejected(const OptimConfig& cfg, const std::string& needle, const std::string& what) {
  ParamStore ps = make_params();
  for (int path = 0; path < 2; ++path) {
    try {
      if (path == 0)
        resolve_options(cfg);
      else
        make_optimizer(cfg, ps);
      ADD_FAILURE() << what << ": accepted by " << (path ? "make_optimizer" : "resolve_options");
    } catch (const ConfigError& e) {
      EXPECT_NE(std::string(e.what()).find(needle), std::string::npos)
          << what << ": message does not name " << needle << ": " << e.what();
    }
  }
}

TEST(OptimizerConformance, OutOfRangeValuesAreRejectedWithTheFieldName) {
  int checked = 0;
  for (const OptimizerInfo& info : optimizer_infos()) {
    for (const FieldRow& row : info.fields) {
      ASSERT_EQ(row.key.rfind("optim.", 0), 0u) << row.key;
      const std::string key = row.key.substr(6);
      if (row.type != "number" && row.type != "integer") continue;
      if (row.allowed.empty()) continue;
      for (double bad : outside(row.allowed)) {
        OptimConfig cfg;
        cfg.name = info.name;
        cfg.set(key, bad);
        expect_rejected(cfg, row.key, fmt::format("{} {} = {}", info.name, key, bad));
        ++checked;
      }
    }
  }
  EXPECT_GT(checked, 20);
}

// Each example is rejected, naming the field, by every optimizer whose range for the key
// excludes it, and at least one optimizer does; one whose range holds it (Lookahead's alpha is
// in (0, 1], RMSprop's in [0, 1)) accepts it.
TEST(OptimizerConformance, TheIssuesExamplesAreRejected) {
  const std::vector<std::pair<std::string, double>> bad = {
      {"lr", -1.0},      {"beta1", 1.0}, {"beta2", -0.1},        {"eps", 0.0},
      {"momentum", 1.0}, {"alpha", 1.0}, {"weight_decay", -0.01}};
  for (const auto& [key, value] : bad) {
    int rejecting = 0;
    for (const OptimizerInfo& info : optimizer_infos()) {
      const auto row = std::find_if(info.fields.begin(), info.fields.end(),
                                    [&](const FieldRow& f) { return f.key == "optim." + key; });
      if (row == info.fields.end()) continue;
      OptimConfig cfg;
      cfg.name = info.name;
      cfg.set(key, value);
      const std::string what = fmt::format("{} {} = {}", info.name, key, value);
      if (Allowed(row->allowed).contains(value)) {
        EXPECT_NO_THROW(make_optimizer(cfg, make_params())) << what;
        continue;
      }
      ++rejecting;
      expect_rejected(cfg, "optim." + key, what);
    }
    EXPECT_GT(rejecting, 0) << "no optimizer rejects " << key << " = " << value;
  }
}

TEST(OptimizerConformance, BoundaryValuesInsideTheRangeAreAccepted) {
  for (const std::string& name : optimizer_names()) {
    for (const auto& [key, value] :
         std::vector<std::pair<std::string, double>>{{"lr", 0.0},
                                                     {"beta1", 0.0},
                                                     {"beta2", 0.0},
                                                     {"momentum", 0.0},
                                                     {"weight_decay", 0.0},
                                                     {"eps", 1e-30},
                                                     {"dampening", 1.0}}) {
      if (!optimizer_index().has_field(name, key)) continue;
      OptimConfig cfg;
      cfg.name = name;
      cfg.set(key, value);
      EXPECT_NO_THROW(resolve_options(cfg)) << name << " " << key << " = " << value;
    }
  }
}

TEST(OptimizerConformance, WrongTypesAndChoicesAreRejectedWithTheFieldName) {
  for (const OptimizerInfo& info : optimizer_infos()) {
    for (const FieldRow& row : info.fields) {
      const std::string key = row.key.substr(6);
      OptimConfig cfg;
      cfg.name = info.name;
      if (row.type == "string")
        cfg.set(key, std::string("no-such-choice"));
      else
        cfg.set(key, std::string("0.5"));  // a string where a number or bool is due
      if (row.type == "string" && row.allowed.empty()) continue;  // free text
      expect_rejected(cfg, row.key, info.name + " " + key);
    }
  }
}

TEST(OptimizerConformance, UnknownOptionGetsADidYouMeanHint) {
  OptimConfig cfg;
  cfg.name = "adam";
  cfg.set("betta1", 0.9);
  try {
    resolve_options(cfg);
    ADD_FAILURE() << "betta1 accepted";
  } catch (const ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("optim.betta1"), std::string::npos) << e.what();
    EXPECT_NE(e.hint().find("did you mean 'beta1'"), std::string::npos) << e.what();
  }
  for (const std::string& name : optimizer_names()) {
    OptimConfig typo;
    typo.name = name;
    typo.set("lrr", 0.1);
    try {
      make_optimizer(typo, make_params());
      ADD_FAILURE() << name << ": lrr accepted";
    } catch (const ConfigError& e) {
      EXPECT_NE(e.hint().find("did you mean 'lr'"), std::string::npos) << name << ": " << e.what();
    }
  }
}

TEST(OptimizerConformance, AnOptionOfAnotherOptimizerIsRejectedNamingIt) {
  OptimConfig cfg;
  cfg.name = "sgd";
  cfg.set("beta1", 0.9);
  try {
    resolve_options(cfg);
    ADD_FAILURE() << "sgd took beta1";
  } catch (const ConfigError& e) {
    const std::string msg = e.what();
    EXPECT_NE(msg.find("optim.beta1"), std::string::npos) << msg;
    EXPECT_NE(msg.find("sgd"), std::string::npos) << msg;
  }
  // Every optimizer rejects every key only others take.
  for (const std::string& name : optimizer_names()) {
    for (const std::string& other : optimizer_names()) {
      for (const std::string& key : optimizer_index().fields(other)) {
        if (optimizer_index().has_field(name, key)) continue;
        OptimConfig c;
        c.name = name;
        c.set(key, 0.5);
        expect_rejected(c, "optim." + key, name + " given " + other + "'s " + key);
      }
    }
  }
}

TEST(OptimizerConformance, UnknownOptimizerNameGetsAHint) {
  OptimConfig cfg;
  cfg.name = "adamw2";
  try {
    make_optimizer(cfg, make_params());
    ADD_FAILURE() << "adamw2 accepted";
  } catch (const ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("adamw2"), std::string::npos) << e.what();
    EXPECT_NE(e.hint().find("did you mean"), std::string::npos) << e.what();
  }
}

TEST(OptimizerConformance, InconsistentSgdOptionsNameTheField) {
  OptimConfig nesterov;
  nesterov.name = "sgd";
  nesterov.set("nesterov", true);  // without momentum
  EXPECT_THROW(
      {
        try {
          make_optimizer(nesterov, make_params());
        } catch (const ConfigError& e) {
          EXPECT_NE(std::string(e.what()).find("optim.nesterov"), std::string::npos) << e.what();
          throw;
        }
      },
      ConfigError);
  OptimConfig ema;
  ema.name = "sgd";
  ema.set("momentum", 0.9).set("momentum_form", std::string("ema")).set("dampening", 0.5);
  EXPECT_THROW(
      {
        try {
          make_optimizer(ema, make_params());
        } catch (const ConfigError& e) {
          EXPECT_NE(std::string(e.what()).find("optim.dampening"), std::string::npos) << e.what();
          throw;
        }
      },
      ConfigError);
}

}  // namespace
}  // namespace sculpt::optim

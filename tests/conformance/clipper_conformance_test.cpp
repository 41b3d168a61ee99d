// Every clipper in the registry, with the example options of its registry row, on random
// gradients at several scales (and on an arena above and below the OpenMP threshold): its own
// norm afterwards is at most its limit; below the limit nothing changes, bit for bit; applying
// it twice equals applying it once; the report's norm before matches an independent double
// computation and its norm after the gradients it leaves; masked (zero) entries stay zero; the
// result is the same bits with 1, 2 and 3 threads; and bad values are rejected by field name.
// The limit check needs the rule's own norm, measured here independently of src/clip: a new
// clipper must add its measure to rule_norms() below (the test fails until it does). Every rule
// is first run for 20 steps (Rule::make), so the rules with a history have one.
#include <fmt/format.h>
#include <gtest/gtest.h>
#include <omp.h>

#include <algorithm>
#include <cmath>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "clip/clipper.h"
#include "core/error.h"
#include "core/param_store.h"
#include "core/rng.h"
#include "io/recipe.h"

namespace sculpt::clip {
namespace {

double option(const Options& o, const std::string& key) {
  const FieldValue& v = o.find(key)->value;
  if (const auto* i = std::get_if<int64_t>(&v)) return static_cast<double>(*i);
  return std::get<double>(v);
}

bool inf_norm(const Options& o) {
  return std::get<std::string>(o.find("norm_type")->value) == "inf";
}

double sumsq(const float* x, int64_t n) {
  double s = 0;
  for (int64_t i = 0; i < n; ++i) s += double(x[i]) * double(x[i]);
  return s;
}

double maxabs(const float* x, int64_t n) {
  double m = 0;
  for (int64_t i = 0; i < n; ++i) m = std::max(m, std::fabs(double(x[i])));
  return m;
}

double global_l2(const ParamStore& ps) {
  double s = 0;
  for (size_t t = 0; t < ps.count(); ++t) s += sumsq(ps.grad(t), ps.entry(t).size);
  return std::sqrt(s);
}

// The rule's own norm and its limit: {measured, limit}; the rule guarantees measured <= limit.
struct Bound {
  double measured = 0, limit = 0;
};
using Measure = std::function<Bound(const ParamStore&, const Options&, const Clipper&)>;

// Rows of a weight (first dimension), or the whole tensor when at most one dimension is > 1.
std::vector<std::pair<int64_t, int64_t>> units_of(const ParamEntry& e) {
  int64_t big = 0;
  for (int64_t d : e.shape) big += d > 1;
  if (big <= 1) return {{0, e.size}};
  std::vector<std::pair<int64_t, int64_t>> out;
  const int64_t len = e.size / e.shape[0];
  for (int64_t r = 0; r < e.shape[0]; ++r) out.push_back({r * len, len});
  return out;
}

double percentile(std::vector<double> v, double p) {
  std::sort(v.begin(), v.end());
  const double pos = p / 100 * double(v.size() - 1);
  const size_t lo = size_t(pos), hi = std::min(lo + 1, v.size() - 1);
  return v[lo] + (pos - double(lo)) * (v[hi] - v[lo]);
}

const std::map<std::string, Measure>& rule_norms() {
  static const std::map<std::string, Measure> m = {
      {"none",
       [](const ParamStore&, const Options&, const Clipper&) {
         return Bound{0, 1};
       }},
      {"value",
       [](const ParamStore& ps, const Options& o, const Clipper&) {
         double top = 0;
         for (size_t t = 0; t < ps.count(); ++t)
           top = std::max(top, maxabs(ps.grad(t), ps.entry(t).size));
         return Bound{top, option(o, "max_value")};
       }},
      {"norm",
       [](const ParamStore& ps, const Options& o, const Clipper&) {
         double top = 0;
         for (size_t t = 0; t < ps.count(); ++t) {
           const int64_t n = ps.entry(t).size;
           top =
               std::max(top, inf_norm(o) ? maxabs(ps.grad(t), n) : std::sqrt(sumsq(ps.grad(t), n)));
         }
         return Bound{top, option(o, "max_norm")};
       }},
      {"global-norm",
       [](const ParamStore& ps, const Options& o, const Clipper&) {
         double top = 0;
         for (size_t t = 0; t < ps.count(); ++t)
           top = std::max(top, maxabs(ps.grad(t), ps.entry(t).size));
         return Bound{inf_norm(o) ? top : global_l2(ps), option(o, "max_norm")};
       }},
      {"agc",
       [](const ParamStore& ps, const Options& o, const Clipper&) {
         double top = 0;
         for (size_t t = 0; t < ps.count(); ++t)
           for (const auto& [begin, len] : units_of(ps.entry(t))) {
             const double g = std::sqrt(sumsq(ps.grad(t) + begin, len));
             const double w =
                 std::max(std::sqrt(sumsq(ps.value(t) + begin, len)), option(o, "eps"));
             top = std::max(top, g / w);
           }
         return Bound{top, option(o, "clipping")};
       }},
      {"autoclip",
       [](const ParamStore& ps, const Options& o, const Clipper& c) {
         return Bound{global_l2(ps), percentile(c.state(), option(o, "percentile"))};
       }},
      // Each tensor's norm against the percentile of its own history, read from the state's
      // layout {T, n_1, ..., n_T, the n_1 norms of tensor 1, ..., the n_T of tensor T}: the
      // largest ratio, which must be at most 1.
      {"quantile-per-layer",
       [](const ParamStore& ps, const Options& o, const Clipper& c) {
         const std::vector<double> s = c.state();
         if (s.size() < 1 + ps.count() || s[0] != double(ps.count())) {
           ADD_FAILURE() << "a state of " << s.size() << " values for " << ps.count() << " tensors";
           return Bound{};
         }
         double worst = 0;
         size_t next = 1 + ps.count();
         for (size_t t = 0; t < ps.count(); ++t) {
           const size_t n = size_t(s[1 + t]);
           const std::vector<double> own(s.begin() + long(next), s.begin() + long(next + n));
           next += n;
           const double norm = std::sqrt(sumsq(ps.grad(t), ps.entry(t).size));
           if (norm > 0) worst = std::max(worst, norm / percentile(own, option(o, "percentile")));
         }
         EXPECT_EQ(next, s.size());
         return Bound{worst, 1};
       }},
  };
  return m;
}

// Weights uniform in (-0.1, 0.1); gradients normal times `scale`, with every 7th entry zero
// (masked). `big` puts the arena above the OpenMP threshold; `in` is fc1's input width (784
// gives the MLP's size). `heavy`: heavy-tailed gradients (magnitudes over ~8 decades), where
// the order of a sum changes its rounding most.
ParamStore make_store(bool big, double scale, uint64_t seed, int64_t in = 130, bool heavy = false) {
  ParamStore ps;
  ps.add("fc1.weight", {big ? int64_t{300} : 20, in});
  ps.add("fc1.bias", {big ? int64_t{300} : 20}, ParamFlags{.decays = false, .prunable = false});
  ps.add("fc2.weight", {10, big ? int64_t{300} : 20});
  ps.add("fc2.bias", {10});
  ps.add("odd.column", {5, 1});
  ps.add("conv.weight", {4, 3, 3, 3});
  ps.finalize();
  Rng rng(seed);
  for (size_t t = 0; t < ps.count(); ++t)
    for (int64_t i = 0; i < ps.entry(t).size; ++i) {
      ps.value(t)[i] = 0.2f * rng.uniform_float() - 0.1f;
      const double tail = heavy ? std::exp(3.0 * rng.normal()) : 1.0;
      ps.grad(t)[i] = i % 7 == 3 ? 0.0f : static_cast<float>(scale * tail * rng.normal());
    }
  return ps;
}

std::vector<float> grads(const ParamStore& ps) { return {ps.grads().begin(), ps.grads().end()}; }

// A clipper with the example options of its registry row (through the recipe parser), after
// 20 steps on the gradients of another draw at scale 1: the rules with a history (autoclip,
// quantile-per-layer) then have limits to meet at the larger scales; the others forget them.
struct Rule {
  std::string name;
  ClipConfig cfg;
  Options options;  // resolved
  std::unique_ptr<Clipper> make() const {
    std::unique_ptr<Clipper> c = make_clipper(cfg);
    ParamStore past = make_store(false, 1.0, 1);
    const std::vector<float> g = grads(past);
    for (int s = 0; s < 20; ++s) {
      std::copy(g.begin(), g.end(), past.grads().begin());
      c->apply(past);
    }
    return c;
  }
};

std::vector<Rule> rules() {
  std::vector<Rule> out;
  for (const ClipperInfo& info : clipper_infos()) {
    Rule r{info.name, parse_recipe(info.example, "example of " + info.name).clip, {}};
    r.options = resolve_options(r.cfg);
    out.push_back(std::move(r));
  }
  return out;
}

const std::vector<double> kScales = {1e-4, 1e-2, 1.0, 1e2, 1e4};

Bound measure(const Rule& r, const ParamStore& ps, const Clipper& c) {
  const auto it = rule_norms().find(r.name);
  if (it == rule_norms().end()) {
    ADD_FAILURE() << "no independent norm for clipper '" << r.name << "': add it to rule_norms()";
    return {};
  }
  return it->second(ps, r.options, c);
}

TEST(ClipperConformance, RegistryIsCoveredAndExamplesParse) {
  const std::vector<Rule> all = rules();
  EXPECT_GE(all.size(), 6u);
  for (const Rule& r : all) {
    EXPECT_EQ(r.cfg.name, r.name);
    EXPECT_TRUE(rule_norms().count(r.name)) << r.name;
  }
}

TEST(ClipperConformance, NormAfterIsWithinTheLimit) {
  for (const Rule& r : rules())
    for (bool big : {false, true})
      for (double scale : kScales) {
        SCOPED_TRACE(fmt::format("{} big={} scale={}", r.name, big, scale));
        ParamStore ps = make_store(big, scale, 11);
        std::unique_ptr<Clipper> c = r.make();
        c->apply(ps);
        const Bound b = measure(r, ps, *c);
        EXPECT_LE(b.measured, b.limit * (1 + 1e-6)) << "limit " << b.limit;
      }
}

TEST(ClipperConformance, BelowTheLimitNothingChanges) {
  for (const Rule& r : rules())
    for (bool big : {false, true}) {
      SCOPED_TRACE(fmt::format("{} big={}", r.name, big));
      ParamStore ps = make_store(big, 1.0, 12);
      std::unique_ptr<Clipper> c = r.make();
      // Every rule's norm is proportional to g: scale g to half of the limit (for the rules
      // with a history, half of the limit its past steps give).
      const Bound b = measure(r, ps, *c);
      const double target = 0.5 * b.limit;
      const float f = b.measured > 0 ? static_cast<float>(target / b.measured) : 1.0f;
      for (float& g : ps.grads()) g *= f;
      const std::vector<float> before = grads(ps);
      const ClipReport rep = c->apply(ps);
      EXPECT_TRUE(grads(ps) == before);
      EXPECT_FALSE(rep.clipped_any);
      EXPECT_EQ(rep.clipped, 0);
      EXPECT_EQ(rep.scale, 1.0);
      EXPECT_EQ(rep.norm_after, rep.norm_before);
    }
}

TEST(ClipperConformance, ApplyingTwiceEqualsOnce) {
  for (const Rule& r : rules())
    for (double scale : {1.0, 1e2}) {
      SCOPED_TRACE(fmt::format("{} scale={}", r.name, scale));
      ParamStore ps = make_store(true, scale, 13);
      std::unique_ptr<Clipper> c = r.make();
      c->apply(ps);
      const std::vector<float> once = grads(ps);
      c->apply(ps);
      const std::vector<float> twice = grads(ps);
      double worst = 0, top = 0;
      for (size_t i = 0; i < once.size(); ++i) {
        worst = std::max(worst, std::fabs(double(twice[i]) - double(once[i])));
        top = std::max(top, std::fabs(double(once[i])));
      }
      EXPECT_LE(worst, 1e-5 * top);
    }
}

TEST(ClipperConformance, ReportMatchesAnIndependentComputation) {
  for (const Rule& r : rules())
    for (double scale : kScales) {
      SCOPED_TRACE(fmt::format("{} scale={}", r.name, scale));
      ParamStore ps = make_store(true, scale, 14);
      const double before = global_l2(ps);
      std::unique_ptr<Clipper> c = r.make();
      const ClipReport rep = c->apply(ps);
      EXPECT_NEAR(rep.norm_before, before, 1e-12 * before);
      const double after = global_l2(ps);
      EXPECT_NEAR(rep.norm_after, after, 1e-5 * after);
      EXPECT_EQ(rep.clipped_any, rep.clipped > 0);
      EXPECT_EQ(rep.clipped_any, grads(ps) != grads(make_store(true, scale, 14)));
      EXPECT_GT(rep.scale, 0.0);
      EXPECT_LE(rep.scale, 1.0);
      if (rep.clipped_any) EXPECT_LT(rep.scale, 1.0);
    }
}

TEST(ClipperConformance, MaskedEntriesStayZero) {
  for (const Rule& r : rules()) {
    SCOPED_TRACE(r.name);
    ParamStore ps = make_store(true, 1e2, 15);
    r.make()->apply(ps);
    for (size_t t = 0; t < ps.count(); ++t)
      for (int64_t i = 3; i < ps.entry(t).size; i += 7) ASSERT_EQ(ps.grad(t)[i], 0.0f);
  }
}

TEST(ClipperConformance, SameBitsForAnyThreadCount) {
  const int saved = omp_get_max_threads();
  for (const Rule& r : rules())
    for (double scale : {1e-4, 1e-2, 1e2}) {
      SCOPED_TRACE(fmt::format("{} scale={}", r.name, scale));
      std::vector<std::vector<float>> out;
      std::vector<ClipReport> reps;
      for (int threads : {1, 2, 3}) {
        omp_set_num_threads(threads);
        ParamStore ps = make_store(true, scale, 16, 784, /*heavy=*/true);
        reps.push_back(r.make()->apply(ps));
        out.push_back(grads(ps));
      }
      for (size_t k = 1; k < out.size(); ++k) {
        EXPECT_TRUE(out[k] == out[0]) << "threads differ";
        EXPECT_EQ(reps[k].norm_before, reps[0].norm_before);
        EXPECT_EQ(reps[k].norm_after, reps[0].norm_after);
        EXPECT_EQ(reps[k].scale, reps[0].scale);
        EXPECT_EQ(reps[k].clipped, reps[0].clipped);
      }
    }
  omp_set_num_threads(saved);
}

TEST(ClipperConformance, BadValuesAreRejectedByFieldName) {
  for (const ClipperInfo& info : clipper_infos())
    for (const FieldRow& f : info.fields) {
      if (f.type != "number" && f.type != "integer") continue;
      const std::string key = f.key.substr(f.key.find('.') + 1);
      SCOPED_TRACE(info.name + "." + key);
      ClipConfig cfg;
      cfg.name = info.name;
      cfg.set(key, f.type == "number" ? FieldValue(-1.0) : FieldValue(int64_t{-1}));
      try {
        make_clipper(cfg);
        ADD_FAILURE() << "accepted -1";
      } catch (const ConfigError& e) {
        EXPECT_EQ(std::string(e.message()).rfind("clip." + key + " must be", 0), 0u) << e.what();
      }
    }
}

}  // namespace
}  // namespace sculpt::clip

// Every pruning criterion in the registry x granularity (unstructured, 2:4, 4:8, neuron) x scope
// (global, layer), wherever validate() accepts the criterion, on a small MLP
// (flatten, fc1 32, relu, fc2 16, relu, fc3 4 on [1, 8, 8]): select() hits the exact target
// (a count of entries, of units per layer, or m - n zeros in every group of m), is
// deterministic, breaks ties by arena position, honours exclusions and per-layer sparsities,
// leaves biases and the output units alone, only ever grows the mask (already-pruned entries
// count toward the target), zeroes the pruned weights, and for neuron granularity masks exactly
// a dead unit's row, bias entry and the next layer's columns. The magnitude threshold prunes
// exactly the entries with |w| <= threshold. Expected counts are computed here from the shapes.
#include <fmt/format.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "core/error.h"
#include "core/masks.h"
#include "core/param_store.h"
#include "core/rng.h"
#include "nn/model.h"
#include "prune/config.h"
#include "prune/criterion.h"
#include "prune/select.h"
#include "prune/structure.h"
#include "unit/prune/prune_test_net.h"

namespace sculpt::prune {
namespace {

// ---- The network -----------------------------------------------------------------------------

nn::LayerSpec L(std::string type, std::map<std::string, double> args = {}) {
  return nn::LayerSpec{std::move(type), "", std::move(args)};
}

struct Net {
  nn::Model model;
  ParamStore ps;
  Structure structure;
  std::vector<PrunableLayer> layers;  // structure.layers
  Masks masks;

  const PrunableLayer& layer(const std::string& name) const {
    for (const PrunableLayer& p : layers)
      if (p.name == name) return p;
    throw std::runtime_error("no layer " + name);
  }
  const float* keep(size_t tensor) const { return masks.keep_data() + ps.entry(tensor).offset; }
  // Mask entries of a tensor, as a vector.
  std::vector<float> mask_of(size_t tensor) const {
    return {keep(tensor), keep(tensor) + ps.entry(tensor).size};
  }
  std::vector<float> values_of(size_t tensor) const {
    return {ps.value(tensor), ps.value(tensor) + ps.entry(tensor).size};
  }
  std::vector<float> whole_mask() const {
    return {masks.keep_data(), masks.keep_data() + ps.arena_size()};
  }
};

Net build(uint64_t seed = 11) {
  const nn::ModelSpec spec{{L("flatten"), L("linear", {{"out", 32}}), L("relu"),
                            L("linear", {{"out", 16}}), L("relu"), L("linear", {{"out", 4}})}};
  Net n{nn::Model::build(spec, Shape{1, 8, 8}), {}, {}, {}, {}};
  n.model.declare(n.ps);
  n.ps.finalize();
  Rng rng(seed);
  n.model.init(n.ps, rng);
  // Nonzero biases, so "untouched" is visible in the values.
  for (size_t i = 0; i < n.ps.count(); ++i)
    if (n.ps.entry(i).name.ends_with(".bias"))
      for (float& b : n.ps.value_span(i)) b = static_cast<float>(rng.uniform(-0.5, 0.5));
  n.structure = prunable_structure(n.model, n.ps);
  n.layers = n.structure.layers;
  n.masks.init(n.ps);
  return n;
}

int64_t zeros(const Net& n, size_t tensor) {
  const float* k = n.keep(tensor);
  return std::count(k, k + n.ps.entry(tensor).size, 0.0f);
}

bool all_kept(const Net& n, size_t tensor) { return zeros(n, tensor) == 0; }

// Units of `p` whose weight row is entirely masked.
// The layer reading p's units on this chain; null for the outputs.
const ChannelReader* reads(const Net& n, const PrunableLayer& p) {
  return test_net::sole_reader(n.structure, p);
}

std::vector<int64_t> dead_units(const Net& n, const PrunableLayer& p) {
  std::vector<int64_t> out;
  const float* k = n.keep(p.weight);
  for (int64_t u = 0; u < p.units; ++u)
    if (std::all_of(k + u * p.fan_in, k + (u + 1) * p.fan_in, [](float v) { return v == 0.0f; }))
      out.push_back(u);
  return out;
}

int64_t target_count(double s, int64_t n) { return std::llround(s * double(n)); }

// Every masked entry (padding included) holds exactly 0 in the parameters.
void expect_masked_weights_zero(const Net& n) {
  const float* k = n.masks.keep_data();
  const auto v = n.ps.values();
  int64_t bad = 0;
  for (int64_t i = 0; i < n.ps.arena_size(); ++i)
    if (k[i] == 0.0f && v[size_t(i)] != 0.0f) ++bad;
  EXPECT_EQ(bad, 0) << "masked entries that are not 0 in the parameters";
}

// Every mask entry is 0 or 1.
void expect_binary_mask(const Net& n) {
  const float* k = n.masks.keep_data();
  EXPECT_TRUE(
      std::all_of(k, k + n.ps.arena_size(), [](float v) { return v == 0.0f || v == 1.0f; }));
}

// ---- The grid --------------------------------------------------------------------------------

struct Case {
  std::string criterion, granularity, scope;
  int64_t n = 2, m = 4;
  std::string when;  // one validate() accepts for this criterion

  std::string label() const {
    return fmt::format("{} {} {}", criterion,
                       granularity == "n:m" ? fmt::format("{}:{}", n, m) : granularity, scope);
  }
  PruneConfig config() const {
    PruneConfig c;
    c.criterion = criterion;
    c.n = n;
    c.m = m;
    set_field_text(c, "when", when, "when");
    set_field_text(c, "granularity", granularity, "granularity");
    set_field_text(c, "scope", scope, "scope");
    return c;
  }
  bool nm() const { return granularity == "n:m"; }
  bool neuron() const { return granularity == "neuron"; }
  bool unstructured() const { return granularity == "unstructured"; }
};

std::vector<Case> all_cases() {
  struct G {
    std::string name;
    int64_t n, m;
  };
  const std::vector<G> grans = {
      {"unstructured", 2, 4}, {"n:m", 2, 4}, {"n:m", 4, 8}, {"neuron", 2, 4}};
  std::vector<Case> out;
  for (const CriterionInfo& info : criteria())
    for (const G& g : grans)
      for (const char* scope : {"global", "layer"}) {
        Case c{info.name, g.name, scope, g.n, g.m, ""};
        for (const char* when : {"at-end", "snip", "gradual"}) {
          c.when = when;
          try {
            validate(c.config());
          } catch (const ConfigError&) {
            continue;
          }
          out.push_back(c);
          break;
        }
      }
  return out;
}

TEST(PruneConformance, TheGridCoversEveryCriterionAndGranularity) {
  const std::vector<Case> cases = all_cases();
  for (const CriterionInfo& info : criteria())
    for (const char* g : {"unstructured", "n:m", "neuron"})
      EXPECT_TRUE(std::any_of(
          cases.begin(), cases.end(),
          [&](const Case& c) { return c.criterion == info.name && c.granularity == g; }))
          << info.name << " " << g << " has no valid combination";
}

// The criterion's scores on the current weights; gradient criteria first accumulate three
// batches of random gradients.
std::vector<float> scores(const Case& c, Net& net, uint64_t seed = 5) {
  const auto crit = make_criterion(c.criterion, 99);
  std::vector<float> stat;
  if (crit->needs() != Needs::kWeights) {
    stat.assign(size_t(net.ps.arena_size()), 0.0f);
    Rng rng(seed);
    for (int b = 0; b < 3; ++b) {
      for (size_t i = 0; i < net.ps.count(); ++i)
        for (float& g : net.ps.grad_span(i)) g = static_cast<float>(rng.uniform(-1.0, 1.0));
      crit->accumulate(net.ps, stat);
    }
    net.ps.zero_grads();
    EXPECT_TRUE(std::any_of(stat.begin(), stat.end(), [](float v) { return v != 0.0f; }))
        << "accumulate left the statistic at zero";
  }
  std::vector<float> out(size_t(net.ps.arena_size()), 0.0f);
  crit->score(net.ps, stat, out);
  return out;
}

void run_select(Net& net, const std::vector<float>& sc, const PruneConfig& cfg, double s) {
  select(net.structure, net.ps, sc, cfg, s, net.masks);
}

// Every run of m consecutive weights along each row of every pruned layer holds m - n zeros.
void expect_n_m(const Net& net, const Case& c, const std::set<std::string>& skip = {}) {
  for (const PrunableLayer& p : net.layers) {
    if (skip.count(p.name)) continue;
    const float* k = net.keep(p.weight);
    int64_t bad = 0;
    for (int64_t u = 0; u < p.units; ++u)
      for (int64_t g = 0; g < p.fan_in; g += c.m) {
        const float* grp = k + u * p.fan_in + g;
        if (std::count(grp, grp + c.m, 0.0f) != c.m - c.n) ++bad;
      }
    EXPECT_EQ(bad, 0) << p.name << ": groups without exactly " << c.m - c.n << " zeros";
  }
}

// Under neuron granularity the mask is exactly: the rows and bias entries of dead units and the
// next layer's columns reading them; everything else is kept.
void expect_exact_neuron_mask(const Net& net) {
  std::vector<float> expected(size_t(net.ps.arena_size()), 1.0f);
  for (const PrunableLayer& p : net.layers) {
    const int64_t w = net.ps.entry(p.weight).offset;
    for (int64_t u : dead_units(net, p)) {
      std::fill_n(expected.begin() + w + u * p.fan_in, p.fan_in, 0.0f);
      if (p.bias) expected[size_t(net.ps.entry(*p.bias).offset + u)] = 0.0f;
      const ChannelReader* next = reads(net, p);
      if (!next) continue;
      const PrunableLayer& q = net.layers[next->layer];
      const int64_t qw = net.ps.entry(q.weight).offset;
      for (int64_t r = 0; r < q.units; ++r)
        std::fill_n(expected.begin() + qw + r * q.fan_in + next->first + u * next->spatial,
                    next->spatial, 0.0f);
    }
  }
  int64_t differ = 0;
  for (const ParamEntry& e : net.ps.entries())
    for (int64_t i = e.offset; i < e.offset + e.size; ++i)
      if (expected[size_t(i)] != net.masks.keep_data()[i]) ++differ;
  EXPECT_EQ(differ, 0) << "mask entries outside (or missing from) dead rows, biases and columns";
}

// The candidate units (fc1, fc2) and how many of them a neuron selection to `s` removes.
int64_t expected_dead_global(const Net& net, double s, const std::set<std::string>& excluded = {}) {
  int64_t units = 0, capacity = 0;
  for (const PrunableLayer& p : net.layers)
    if (reads(net, p) && !excluded.count(p.name)) {
      units += p.units;
      capacity += p.units - 1;
    }
  return std::min(target_count(s, units), capacity);
}
int64_t expected_dead_layer(const PrunableLayer& p, double s) {
  return std::min(target_count(s, p.units), p.units - 1);
}

void expect_target(const Net& net, const Case& c, double s) {
  expect_binary_mask(net);
  expect_masked_weights_zero(net);
  if (c.unstructured()) {
    int64_t total = 0, pruned = 0;
    for (const PrunableLayer& p : net.layers) {
      const int64_t n = net.ps.entry(p.weight).size;
      total += n;
      pruned += zeros(net, p.weight);
      if (c.scope == "layer") EXPECT_EQ(zeros(net, p.weight), target_count(s, n)) << p.name;
    }
    if (c.scope == "global") EXPECT_EQ(pruned, target_count(s, total));
  } else if (c.nm()) {
    expect_n_m(net, c);
  } else {
    int64_t dead = 0;
    for (const PrunableLayer& p : net.layers) {
      const int64_t d = int64_t(dead_units(net, p).size());
      dead += d;
      if (!reads(net, p)) {
        EXPECT_EQ(d, 0) << "the output layer lost units";
        EXPECT_TRUE(all_kept(net, *p.bias)) << "the output layer's bias was masked";
        continue;
      }
      EXPECT_LT(d, p.units) << p.name << " lost every unit";
      if (c.scope == "layer") EXPECT_EQ(d, expected_dead_layer(p, s)) << p.name;
    }
    if (c.scope == "global") EXPECT_EQ(dead, expected_dead_global(net, s));
    expect_exact_neuron_mask(net);
  }
  if (!c.neuron())
    for (const PrunableLayer& p : net.layers)
      EXPECT_TRUE(all_kept(net, *p.bias)) << p.name << ".bias";
}

TEST(PruneConformance, HitsTheExactTarget) {
  for (const Case& c : all_cases())
    for (double s : {0.0, 0.5, 0.9, 0.97}) {
      SCOPED_TRACE(fmt::format("{} sparsity {}", c.label(), s));
      Net net = build();
      std::map<size_t, std::vector<float>> biases;
      for (const PrunableLayer& p : net.layers) biases[*p.bias] = net.values_of(*p.bias);
      run_select(net, scores(c, net), c.config(), s);
      expect_target(net, c, s);
      if (!c.neuron())  // biases are not candidates by default: their values stay as they were
        for (const auto& [t, v] : biases) EXPECT_EQ(net.values_of(t), v) << net.ps.entry(t).name;
    }
}

TEST(PruneConformance, TheSameInputsGiveTheSameMask) {
  for (const Case& c : all_cases()) {
    SCOPED_TRACE(c.label());
    Net a = build(), b = build();
    run_select(a, scores(c, a), c.config(), 0.7);
    run_select(b, scores(c, b), c.config(), 0.7);
    ASSERT_EQ(a.ps.arena_size(), b.ps.arena_size());
    const size_t bytes = size_t(a.ps.arena_size()) * sizeof(float);
    EXPECT_EQ(0, std::memcmp(a.masks.keep_data(), b.masks.keep_data(), bytes));
    EXPECT_EQ(0, std::memcmp(a.ps.values().data(), b.ps.values().data(), bytes));
  }
}

// All scores equal: the lowest arena indices go first (entries, within each group, or units).
TEST(PruneConformance, TiesPruneTheLowestArenaIndicesFirst) {
  for (const Case& c : all_cases()) {
    if (c.criterion != criteria().front().name) continue;  // scores are given, not computed
    SCOPED_TRACE(c.label());
    Net net = build();
    const std::vector<float> equal(size_t(net.ps.arena_size()), 0.25f);
    const double s = 0.5;
    run_select(net, equal, c.config(), s);
    const float* keep = net.masks.keep_data();
    if (c.unstructured()) {
      // Candidate indices in ascending arena order, ranked globally or per layer.
      std::vector<std::vector<int64_t>> rankings;
      for (const PrunableLayer& p : net.layers) {
        const ParamEntry& e = net.ps.entry(p.weight);
        if (c.scope == "layer" || rankings.empty()) rankings.emplace_back();
        for (int64_t i = e.offset; i < e.offset + e.size; ++i) rankings.back().push_back(i);
      }
      for (auto& r : rankings) {
        std::sort(r.begin(), r.end());
        const int64_t k = target_count(s, int64_t(r.size()));
        for (int64_t j = 0; j < int64_t(r.size()); ++j)
          ASSERT_EQ(keep[r[size_t(j)]], j < k ? 0.0f : 1.0f)
              << "candidate " << j << " of " << r.size();
      }
    } else if (c.nm()) {
      for (const PrunableLayer& p : net.layers) {
        const ParamEntry& e = net.ps.entry(p.weight);
        for (int64_t i = 0; i < e.size; ++i)
          ASSERT_EQ(keep[e.offset + i], i % c.m < c.m - c.n ? 0.0f : 1.0f)
              << p.name << " entry " << i;
      }
    } else {
      std::vector<std::pair<size_t, int64_t>> units;  // (layer, unit) in arena order
      std::map<size_t, std::set<int64_t>> expected;
      for (size_t l = 0; l < net.layers.size(); ++l) {
        if (!reads(net, net.layers[l])) continue;
        if (c.scope == "layer") {
          const int64_t k = expected_dead_layer(net.layers[l], s);
          for (int64_t u = 0; u < k; ++u) expected[l].insert(u);
        }
        for (int64_t u = 0; u < net.layers[l].units; ++u) units.push_back({l, u});
      }
      if (c.scope == "global") {
        const int64_t k = expected_dead_global(net, s);
        for (int64_t j = 0; j < k; ++j)
          expected[units[size_t(j)].first].insert(units[size_t(j)].second);
      }
      for (size_t l = 0; l < net.layers.size(); ++l) {
        const std::vector<int64_t> d = dead_units(net, net.layers[l]);
        EXPECT_EQ(std::set<int64_t>(d.begin(), d.end()), expected[l]) << net.layers[l].name;
      }
    }
  }
}

TEST(PruneConformance, ExcludedLayersAreLeftAlone) {
  for (const Case& c : all_cases())
    for (double s : {0.5, 0.97}) {
      SCOPED_TRACE(fmt::format("{} sparsity {}", c.label(), s));
      Net net = build();
      const PrunableLayer& fc1 = net.layer("fc1");
      const PrunableLayer& fc2 = net.layer("fc2");
      const PrunableLayer& fc3 = net.layer("fc3");
      const std::vector<float> w2 = net.values_of(fc2.weight), b2 = net.values_of(*fc2.bias);
      PruneConfig cfg = c.config();
      cfg.exclude = "fc2";
      run_select(net, scores(c, net), cfg, s);
      expect_masked_weights_zero(net);
      EXPECT_TRUE(dead_units(net, fc2).empty());
      EXPECT_TRUE(all_kept(net, *fc2.bias));
      EXPECT_EQ(net.values_of(*fc2.bias), b2);
      if (c.neuron()) {
        // fc2 keeps every unit; its columns that read dead fc1 units are all it loses.
        const std::vector<int64_t> d1 = dead_units(net, fc1);
        const int64_t want = c.scope == "global" ? expected_dead_global(net, s, {"fc2"})
                                                 : expected_dead_layer(fc1, s);
        EXPECT_EQ(int64_t(d1.size()), want);
        EXPECT_EQ(zeros(net, fc2.weight), int64_t(d1.size()) * fc2.units);
        EXPECT_TRUE(all_kept(net, fc3.weight));
        expect_exact_neuron_mask(net);
      } else {
        EXPECT_TRUE(all_kept(net, fc2.weight));
        EXPECT_EQ(net.values_of(fc2.weight), w2);
        if (c.nm()) {
          expect_n_m(net, c, {"fc2"});
        } else {
          const int64_t n1 = net.ps.entry(fc1.weight).size, n3 = net.ps.entry(fc3.weight).size;
          if (c.scope == "global") {
            EXPECT_EQ(zeros(net, fc1.weight) + zeros(net, fc3.weight), target_count(s, n1 + n3));
          } else {
            EXPECT_EQ(zeros(net, fc1.weight), target_count(s, n1));
            EXPECT_EQ(zeros(net, fc3.weight), target_count(s, n3));
          }
        }
      }
    }
}

TEST(PruneConformance, AListOfExclusionsLeavesOnlyTheRest) {
  for (const Case& c : all_cases()) {
    if (!c.unstructured()) continue;
    SCOPED_TRACE(c.label());
    Net net = build();
    PruneConfig cfg = c.config();
    cfg.exclude = " fc1 ,fc3";
    run_select(net, scores(c, net), cfg, 0.6);
    const PrunableLayer& fc2 = net.layer("fc2");
    EXPECT_TRUE(all_kept(net, net.layer("fc1").weight));
    EXPECT_TRUE(all_kept(net, net.layer("fc3").weight));
    EXPECT_EQ(zeros(net, fc2.weight), target_count(0.6, net.ps.entry(fc2.weight).size));
  }
}

// biases = true (unstructured only): weights and biases are ranked together.
TEST(PruneConformance, BiasesTakePartOnlyWhenAsked) {
  for (const Case& c : all_cases()) {
    if (!c.unstructured()) continue;
    SCOPED_TRACE(c.label());
    Net net = build();
    PruneConfig cfg = c.config();
    cfg.biases = true;
    const double s = 0.9;
    run_select(net, scores(c, net), cfg, s);
    expect_masked_weights_zero(net);
    int64_t total = 0, pruned = 0;
    for (const PrunableLayer& p : net.layers) {
      const int64_t n = net.ps.entry(p.weight).size + net.ps.entry(*p.bias).size;
      const int64_t z = zeros(net, p.weight) + zeros(net, *p.bias);
      total += n;
      pruned += z;
      if (c.scope == "layer") EXPECT_EQ(z, target_count(s, n)) << p.name;
    }
    EXPECT_EQ(pruned, target_count(s, total));
  }
}

// Masks only grow: a higher target keeps every pruned entry and counts it toward the new
// target; a lower one revives nothing.
TEST(PruneConformance, MasksAreMonotone) {
  for (const Case& c : all_cases()) {
    SCOPED_TRACE(c.label());
    Net net = build();
    const PruneConfig cfg = c.config();
    run_select(net, scores(c, net), cfg, 0.5);
    const std::vector<float> first = net.whole_mask();
    run_select(net, scores(c, net, 6), cfg, 0.9);
    const std::vector<float> second = net.whole_mask();
    int64_t revived = 0;
    for (size_t i = 0; i < first.size(); ++i)
      if (first[i] == 0.0f && second[i] != 0.0f) ++revived;
    EXPECT_EQ(revived, 0) << "entries pruned at 0.5 came back at 0.9";
    expect_target(net, c, 0.9);  // the earlier pruning counts toward the new target
    run_select(net, scores(c, net, 7), cfg, 0.3);
    EXPECT_EQ(net.whole_mask(), second) << "a lower target changed the mask";
    expect_masked_weights_zero(net);
  }
}

// Unstructured selection against its definition, the first k of every candidate sorted by
// (score, layer, arena index), with already-pruned entries scoring -inf: scores drawn from five
// values (ties everywhere), a mask half grown by an earlier selection, biases included, both
// scopes and several targets.
TEST(PruneConformance, UnstructuredSelectionIsTheSortedDefinition) {
  for (const char* scope : {"global", "layer"})
    for (const double s : {0.1, 0.37, 0.5, 0.9}) {
      SCOPED_TRACE(fmt::format("{} {}", scope, s));
      Net net = build();
      PruneConfig cfg;
      cfg.scope = std::string(scope) == "global" ? Scope::kGlobal : Scope::kLayer;
      cfg.biases = true;
      Rng rng(5);
      std::vector<float> sc(size_t(net.ps.arena_size()));
      for (float& v : sc) v = 0.25f * float(rng.below(5));
      run_select(net, sc, cfg, s / 2);  // an earlier, smaller selection
      for (float& v : sc) v = 0.25f * float(rng.below(5));
      std::vector<float> want = net.whole_mask();
      struct Entry {
        float score;
        size_t layer;
        int64_t index;
      };
      std::vector<std::vector<Entry>> groups(cfg.scope == Scope::kGlobal ? 1 : net.layers.size());
      for (size_t l = 0; l < net.layers.size(); ++l)
        for (const size_t t : {net.layers[l].weight, *net.layers[l].bias}) {
          const ParamEntry& e = net.ps.entry(t);
          for (int64_t i = e.offset; i < e.offset + e.size; ++i)
            groups[cfg.scope == Scope::kGlobal ? 0 : l].push_back(
                {want[size_t(i)] == 0.0f ? -std::numeric_limits<float>::infinity() : sc[size_t(i)],
                 l, i});
        }
      for (auto& g : groups) {
        std::sort(g.begin(), g.end(), [](const Entry& a, const Entry& b) {
          return std::tie(a.score, a.layer, a.index) < std::tie(b.score, b.layer, b.index);
        });
        const int64_t k = target_count(s, int64_t(g.size()));
        for (int64_t j = 0; j < k; ++j) want[size_t(g[size_t(j)].index)] = 0.0f;
      }
      run_select(net, sc, cfg, s);
      EXPECT_EQ(net.whole_mask(), want);
    }
}

// scope = layer with a per-layer table: each listed layer gets its own target, the rest the
// default.
TEST(PruneConformance, PerLayerSparsitiesOverrideTheDefault) {
  for (const Case& c : all_cases()) {
    if (c.scope != "layer" || c.nm()) continue;
    SCOPED_TRACE(c.label());
    Net net = build();
    PruneConfig cfg = c.config();
    cfg.layers = "fc1=0.97, fc2=0.25";
    const double s = 0.5;
    run_select(net, scores(c, net), cfg, s);
    const std::map<std::string, double> want{{"fc1", 0.97}, {"fc2", 0.25}, {"fc3", s}};
    for (const PrunableLayer& p : net.layers) {
      const double t = want.at(p.name);
      if (c.unstructured())
        EXPECT_EQ(zeros(net, p.weight), target_count(t, net.ps.entry(p.weight).size)) << p.name;
      else
        EXPECT_EQ(int64_t(dead_units(net, p).size()), reads(net, p) ? expected_dead_layer(p, t) : 0)
            << p.name;
    }
  }
}

// threshold >= 0: exactly the candidate entries with |w| <= threshold are pruned, whatever the
// sparsity argument says; biases stay.
TEST(PruneConformance, MagnitudeThresholdPrunesExactlyTheEntriesAtOrBelowIt) {
  for (const char* scope : {"global", "layer"}) {
    SCOPED_TRACE(scope);
    Net net = build();
    const PrunableLayer& fc2 = net.layer("fc2");
    // The median magnitude of fc2, planted again (with both signs) to test the boundary.
    std::vector<float> mags;
    for (float w : net.values_of(fc2.weight)) mags.push_back(std::fabs(w));
    std::nth_element(mags.begin(), mags.begin() + mags.size() / 2, mags.end());
    const float tau = mags[mags.size() / 2];
    net.ps.value(fc2.weight)[3] = tau;
    net.ps.value(fc2.weight)[4] = -tau;
    net.ps.value(fc2.weight)[5] = std::nextafter(tau, 1.0f);
    net.ps.value(net.layer("fc1").weight)[0] = 0.0f;
    std::set<int64_t> expected;
    for (const PrunableLayer& p : net.layers) {
      const ParamEntry& e = net.ps.entry(p.weight);
      for (int64_t i = 0; i < e.size; ++i)
        if (std::fabs(net.ps.value(p.weight)[i]) <= tau) expected.insert(e.offset + i);
    }
    ASSERT_GT(expected.size(), 100u);
    const std::vector<float> biases_before = net.values_of(*fc2.bias);

    PruneConfig cfg;
    cfg.when = When::kAtEnd;
    cfg.scope = *enum_of<Scope>(scope);
    cfg.threshold = tau;
    validate(cfg);
    const Case c{"magnitude", "unstructured", scope, 2, 4, "at-end"};
    run_select(net, scores(c, net), cfg, 0.1);
    std::set<int64_t> pruned;
    for (int64_t i = 0; i < net.ps.arena_size(); ++i)
      if (net.masks.keep_data()[i] == 0.0f) pruned.insert(i);
    EXPECT_EQ(pruned, expected);
    EXPECT_EQ(net.values_of(*fc2.bias), biases_before);
    expect_masked_weights_zero(net);

    // A lower threshold revives nothing.
    const std::vector<float> before = net.whole_mask();
    cfg.threshold = tau / 4;
    run_select(net, scores(c, net), cfg, 0.1);
    EXPECT_EQ(net.whole_mask(), before);
  }
}

TEST(PruneConformance, SelectRejectsTargetsOutsideZeroToOne) {
  Net net = build();
  const Case c{"magnitude", "unstructured", "global", 2, 4, "at-end"};
  const std::vector<float> sc = scores(c, net);
  for (double s : {1.0, -0.1, 1.5})
    EXPECT_THROW(run_select(net, sc, c.config(), s), ConfigError) << s;
  EXPECT_TRUE(std::all_of(net.masks.keep_data(), net.masks.keep_data() + net.ps.arena_size(),
                          [](float k) { return k == 1.0f; }));
}

}  // namespace
}  // namespace sculpt::prune

// Bad [prune] input is a ConfigError that names the key and says what would work: sparsities
// outside [0, 1) from the recipe or --set, n:m with n >= m or an m that does not divide a layer's
// fan-in (naming the layer), unknown layers in exclude/layers (listing the valid names), an
// unknown criterion (did you mean), malformed per-layer tables, and combinations validate()
// refuses. Good input parses to the fields it says.
#include "prune/config.h"

#include <gtest/gtest.h>

#include <functional>
#include <map>
#include <string>

#include "core/error.h"
#include "core/rng.h"
#include "io/recipe.h"
#include "nn/model.h"
#include "prune/criterion.h"
#include "prune/pruner.h"
#include "prune/select.h"
#include "prune/structure.h"
#include "unit/prune/prune_test_net.h"

namespace sculpt::prune {
namespace {

// Runs `f`, expects a ConfigError and returns it (fails the test otherwise).
ConfigError config_error(const std::function<void()>& f) {
  try {
    f();
  } catch (const ConfigError& e) {
    return e;
  } catch (const std::exception& e) {
    ADD_FAILURE() << "wrong exception type: " << e.what();
    return ConfigError("");
  }
  ADD_FAILURE() << "no exception";
  return ConfigError("");
}

bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

const char* kPrune = R"([prune]
when = "gradual"
criterion = "magnitude"
sparsity = 0.8
)";

ConfigError recipe_error(const std::string& text, std::vector<std::string> overrides = {}) {
  return config_error([&] { parse_recipe(text, "r.toml", overrides); });
}

TEST(PruneConfig, ARecipeTableParsesToItsFields) {
  const RecipeConfig r = parse_recipe(std::string(kPrune) +
                                          "granularity = \"n:m\"\nn = 2\nm = 8\n"
                                          "exclude = \"fc3\"\nevery = 25\n",
                                      "r.toml", {"prune.ramp=linear"});
  EXPECT_EQ(r.prune.when, prune::When::kGradual);
  EXPECT_EQ(r.prune.sparsity, 0.8);
  EXPECT_EQ(r.prune.granularity, prune::Granularity::kNM);
  EXPECT_EQ(r.prune.m, 8);
  EXPECT_EQ(r.prune.exclude, "fc3");
  EXPECT_EQ(r.prune.every, 25);
  EXPECT_EQ(r.prune.ramp, prune::Ramp::kLinear);
  EXPECT_EQ(parse_recipe(kPrune, "r.toml", {"prune.sparsity=0.0"}).prune.sparsity, 0.0);
  EXPECT_EQ(parse_recipe(kPrune, "r.toml", {"prune.sparsity=0.99"}).prune.sparsity, 0.99);
}

TEST(PruneConfig, SparsityOutsideZeroToOneIsRejected) {
  for (const char* bad : {"1.0", "-0.1", "1", "1.5"}) {
    SCOPED_TRACE(bad);
    const ConfigError e = recipe_error(kPrune, {fmt::format("prune.sparsity={}", bad)});
    EXPECT_TRUE(contains(e.what(), "prune.sparsity")) << e.what();
    EXPECT_TRUE(contains(e.what(), "[0, 1)")) << e.what();
  }
  // In the file as well as from --set.
  const ConfigError e = recipe_error("[prune]\nsparsity = 1.0\n");
  EXPECT_TRUE(contains(e.what(), "prune.sparsity")) << e.what();
  const ConfigError init = recipe_error(kPrune, {"prune.initial_sparsity=-0.1"});
  EXPECT_TRUE(contains(init.what(), "prune.initial_sparsity")) << init.what();
}

TEST(PruneConfig, InitialSparsityAboveTheTargetIsRejected) {
  const ConfigError e = recipe_error(kPrune, {"prune.initial_sparsity=0.9"});
  EXPECT_EQ(e.where(), "prune.initial_sparsity");
  EXPECT_TRUE(contains(e.message(), "0.9") && contains(e.message(), "0.8")) << e.what();
}

TEST(PruneConfig, NmNeedsNBelowM) {
  for (const char* nm : {"4:4", "5:4", "8:4"}) {
    SCOPED_TRACE(nm);
    const std::string n(nm, std::string(nm).find(':'));
    const std::string m = std::string(nm).substr(n.size() + 1);
    const ConfigError e =
        recipe_error(std::string(kPrune) + "granularity = \"n:m\"\nn = " + n + "\nm = " + m + "\n");
    EXPECT_EQ(e.where(), "prune.n");
    EXPECT_TRUE(contains(e.message(), nm)) << e.what();
    EXPECT_FALSE(e.hint().empty());
  }
  // n >= m means nothing for other granularities.
  EXPECT_NO_THROW(parse_recipe(std::string(kPrune) + "n = 4\nm = 4\n", "r.toml"));
}

TEST(PruneConfig, UnknownCriterionSuggestsTheClosestName) {
  const ConfigError e = recipe_error(kPrune, {"prune.criterion=magnitud"});
  EXPECT_TRUE(contains(e.what(), "prune.criterion")) << e.what();
  EXPECT_EQ(e.hint(), "did you mean 'magnitude'?");
  // The registry itself, for callers that bypass the recipe (sculpt prune).
  const ConfigError r = config_error([] { make_criterion("taylr"); });
  EXPECT_EQ(r.where(), "prune.criterion");
  EXPECT_TRUE(contains(r.message(), "taylr")) << r.what();
  EXPECT_EQ(r.hint(), "did you mean 'taylor'?");
  const ConfigError far = config_error([] { make_criterion("xyzzyplugh"); });
  for (const CriterionInfo& info : criteria())
    EXPECT_TRUE(contains(far.hint(), info.name)) << far.hint();
}

TEST(PruneConfig, ContradictoryCombinationsAreRejected) {
  struct Bad {
    std::vector<std::string> sets;
    std::string key;
  };
  const std::vector<Bad> bad = {
      {{"prune.granularity=neuron", "prune.biases=true"}, "prune.biases"},
      {{"prune.threshold=0.01"}, "prune.threshold"},  // gradual has no use for a threshold
      {{"prune.when=at-end", "prune.granularity=neuron", "prune.threshold=0.01"},
       "prune.threshold"},
      {{"prune.criterion=movement", "prune.when=at-end"}, "prune.criterion"},
      {{"prune.criterion=snip"}, "prune.criterion"},
      {{"prune.start=3", "prune.end=2"}, "prune.end"},
      {{"prune.layers=fc1=0.5"}, "prune.layers"},  // scope is global
  };
  for (const Bad& b : bad) {
    SCOPED_TRACE(b.key);
    const ConfigError e = recipe_error(kPrune, b.sets);
    EXPECT_EQ(e.where(), b.key) << e.what();
  }
}

// ---- Per-layer table --------------------------------------------------------------------------

TEST(PruneConfig, PerLayerTableParses) {
  const auto t = parse_layer_table(" fc1 = 0.97, fc2=0.5 ,fc3=0", "prune.layers");
  const std::map<std::string, double> want{{"fc1", 0.97}, {"fc2", 0.5}, {"fc3", 0.0}};
  EXPECT_EQ(t, want);
  EXPECT_TRUE(parse_layer_table("", "prune.layers").empty());
}

TEST(PruneConfig, MalformedPerLayerTableIsRejected) {
  for (const char* bad :
       {"fc1", "fc1=", "=0.5", "fc1=abc", "fc1=0.5x", "fc1=1.0", "fc1=-0.1", "fc1=0.5,fc2"}) {
    SCOPED_TRACE(bad);
    const ConfigError e = config_error([&] { parse_layer_table(bad, "prune.layers"); });
    EXPECT_EQ(e.where(), "prune.layers");
    // Through the recipe, with scope = layer.
    const ConfigError r =
        recipe_error(kPrune, {"prune.scope=layer", fmt::format("prune.layers={}", bad)});
    EXPECT_EQ(r.where(), "prune.layers") << r.what();
  }
  const ConfigError range = config_error([] { parse_layer_table("fc2=1.5", "prune.layers"); });
  EXPECT_TRUE(contains(range.message(), "fc2") && contains(range.message(), "1.5")) << range.what();
  EXPECT_TRUE(contains(range.message(), "[0, 1)")) << range.what();
}

// ---- Names checked against the model ---------------------------------------------------------

PruneConfig at_end() {
  PruneConfig c;
  c.when = prune::When::kAtEnd;
  return c;
}

TEST(PruneConfig, MThatDoesNotDivideAFanInNamesTheLayer) {
  const test_net::Net net = test_net::build_mlp(1);
  PruneConfig c = at_end();
  c.granularity = prune::Granularity::kNM;
  c.n = 32;
  c.m = 64;  // divides fc1's 64 inputs, not fc2's 32
  ConfigError e = config_error([&] { candidates(net.structure, net.ps, c); });
  EXPECT_EQ(e.where(), "prune.m");
  EXPECT_TRUE(contains(e.message(), "'fc2'")) << e.what();
  EXPECT_TRUE(contains(e.message(), "32")) << e.what();
  EXPECT_FALSE(contains(e.message(), "fc1")) << e.what();
  // The Pruner refuses before training starts.
  EXPECT_THROW((void)Pruner(c, net.structure, net.ps, 10, 40, 1), ConfigError);

  c.n = 2;
  c.m = 3;  // divides none: the first layer is named
  e = config_error([&] { candidates(net.structure, net.ps, c); });
  EXPECT_TRUE(contains(e.message(), "'fc1'") && contains(e.message(), "64")) << e.what();
  // Excluding the layers it does not fit is the way out.
  c.m = 64;
  c.exclude = "fc2, fc3";
  EXPECT_NO_THROW(candidates(net.structure, net.ps, c));
}

TEST(PruneConfig, UnknownLayerInExcludeListsTheValidNames) {
  const test_net::Net net = test_net::build_mlp(1);
  PruneConfig c = at_end();
  c.exclude = "fc2, fc9";
  const ConfigError e = config_error([&] { candidates(net.structure, net.ps, c); });
  EXPECT_EQ(e.where(), "prune.exclude");
  EXPECT_TRUE(contains(e.message(), "fc9")) << e.what();
  EXPECT_TRUE(contains(e.what(), "fc1, fc2, fc3")) << e.what();
}

TEST(PruneConfig, UnknownLayerInPerLayerTableListsTheValidNames) {
  const test_net::Net net = test_net::build_mlp(1);
  PruneConfig c = at_end();
  c.scope = prune::Scope::kLayer;
  c.layers = "fc1=0.5,fc4=0.5";
  const ConfigError e = config_error([&] { candidates(net.structure, net.ps, c); });
  EXPECT_EQ(e.where(), "prune.layers");
  EXPECT_TRUE(contains(e.message(), "fc4")) << e.what();
  EXPECT_TRUE(contains(e.what(), "fc1, fc2, fc3")) << e.what();
}

TEST(PruneConfig, ExcludingEveryLayerLeavesNothingToPrune) {
  const test_net::Net net = test_net::build_mlp(1);
  PruneConfig c = at_end();
  c.exclude = "fc1,fc2,fc3";
  const ConfigError e = config_error([&] { candidates(net.structure, net.ps, c); });
  EXPECT_EQ(e.where(), "prune.exclude");
  // Neuron granularity never removes the outputs: excluding fc1 and fc2 leaves nothing either.
  c.granularity = prune::Granularity::kNeuron;
  c.exclude = "fc1,fc2";
  EXPECT_THROW(candidates(net.structure, net.ps, c), ConfigError);
}

}  // namespace
}  // namespace sculpt::prune

// RecipeConfig parsing, validation messages, --set overrides, to_toml round trips and the shipped
// recipes/*.toml files.
#include "io/recipe.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <functional>

#include "core/error.h"
#include "optim/optimizer.h"

namespace sculpt {
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

ConfigError parse_error(const std::string& text, std::vector<std::string> overrides = {}) {
  return config_error([&] { parse_recipe(text, "r.toml", overrides); });
}

bool same_layers(const nn::ModelSpec& a, const nn::ModelSpec& b) {
  if (a.layers.size() != b.layers.size()) return false;
  for (size_t i = 0; i < a.layers.size(); ++i) {
    const auto &x = a.layers[i], &y = b.layers[i];
    if (x.type != y.type || x.name != y.name || x.args != y.args) return false;
  }
  return true;
}

bool same_groups(const std::vector<ParamGroupConfig>& a, const std::vector<ParamGroupConfig>& b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i)
    if (a[i].params != b[i].params || !fields_equal(a[i], b[i])) return false;
  return true;
}

bool same_optim(const OptimConfig& a, const OptimConfig& b) {
  return a.name == b.name && optim::resolve_options(a) == optim::resolve_options(b) &&
         same_groups(a.groups, b.groups);
}

bool same_schedule(const ScheduleConfig& a, const ScheduleConfig& b) {
  if (a.name != b.name || sched::resolve_options(a) != sched::resolve_options(b) ||
      !fields_equal(a.plateau, b.plateau) || a.phases.size() != b.phases.size())
    return false;
  for (size_t i = 0; i < a.phases.size(); ++i)
    if (a.phases[i].name != b.phases[i].name || sched::resolve_phase_options(a.phases[i], i) !=
                                                    sched::resolve_phase_options(b.phases[i], i))
      return false;
  return true;
}

// The resolved value of an optimizer option.
FieldValue opt(const RecipeConfig& r, std::string_view key) {
  const Options o = optim::resolve_options(r.optim);
  return o.find(key) ? o.find(key)->value : FieldValue(std::string("<missing>"));
}

bool same_recipe(const RecipeConfig& a, const RecipeConfig& b) {
  return fields_equal(a.data, b.data) && fields_equal(a.model, b.model) &&
         same_optim(a.optim, b.optim) && same_schedule(a.schedule, b.schedule) &&
         fields_equal(a.train, b.train) && fields_equal(a.output, b.output) &&
         same_layers(a.model.custom, b.model.custom);
}

TEST(Recipe, EmptyFileGivesTheStructDefaults) {
  const RecipeConfig r = parse_recipe("", "empty.toml");
  EXPECT_TRUE(same_recipe(r, RecipeConfig{}));
  EXPECT_EQ(r.source, "empty.toml");
  EXPECT_EQ(r.optim.name, "sgd");
  EXPECT_EQ(opt(r, "lr"), FieldValue(0.01));  // torch.optim.SGD's defaults: no momentum
  EXPECT_EQ(opt(r, "momentum"), FieldValue(0.0));
  EXPECT_EQ(r.train.batch_size, 128);
}

TEST(Recipe, ReadsEveryKindOfValue) {
  const RecipeConfig r = parse_recipe(R"(
[data]
source = "csv"
target = 3
[optim]
lr = 2          # an integer for a double field
nesterov = false
weight_decay = 1e-4
[train]
epochs = 3
seed = 7
[output]
name = "quick"
)",
                                      "r.toml");
  EXPECT_EQ(r.data.source, DataSource::kCsv);
  EXPECT_EQ(r.data.target, "3");
  EXPECT_EQ(opt(r, "lr"), FieldValue(2.0));
  EXPECT_EQ(opt(r, "nesterov"), FieldValue(false));
  EXPECT_EQ(opt(r, "weight_decay"), FieldValue(1e-4));
  EXPECT_EQ(r.train.epochs, 3);
  EXPECT_EQ(r.train.seed, 7u);
  EXPECT_EQ(r.output.name, "quick");
  EXPECT_EQ(r.train.batch_size, 128);  // untouched keys keep their defaults
}

TEST(Recipe, UnknownKeyNamesTableKeyFilePositionAndSuggestion) {
  const ConfigError e = parse_error("[optim]\nlrr = 0.1\n");
  EXPECT_EQ(e.message(), "unknown key 'optim.lrr'");
  EXPECT_EQ(e.where(), "r.toml:2:7");
  EXPECT_EQ(e.hint(), "did you mean 'lr'?");
}

TEST(Recipe, UnknownTableSuggestsTheClosest) {
  const ConfigError e = parse_error("[optm]\nlr = 0.1\n");
  EXPECT_EQ(e.message(), "unknown table 'optm'");
  EXPECT_EQ(e.hint(), "did you mean 'optim'?");
}

TEST(Recipe, KeyOutsideATablePointsToItsTable) {
  const ConfigError e = parse_error("lr = 0.1\n");
  EXPECT_NE(e.message().find("unknown key 'lr'"), std::string::npos);
  EXPECT_EQ(e.hint(), "did you mean 'optim.lr'?");
}

TEST(Recipe, WrongTypeSaysWhatWasExpected) {
  EXPECT_EQ(parse_error("[optim]\nlr = \"fast\"\n").message(),
            "optim.lr must be a number, got string \"fast\"");
  EXPECT_EQ(parse_error("[train]\nepochs = 2.5\n").message(),
            "train.epochs must be an integer, got float 2.5");
  EXPECT_EQ(parse_error("[optim]\nnesterov = 1\n").message(),
            "optim.nesterov must be true or false, got integer 1");
  EXPECT_EQ(parse_error("[data]\nsource = 3\n").message(),
            "data.source must be a string, got integer 3");
  EXPECT_EQ(parse_error("[optim]\nlr = [0.1]\n").message(),
            "optim.lr must be a number, got list [0.1]");
  EXPECT_EQ(parse_error("optim = 3\n").message(), "'optim' must be a table, got integer");
}

TEST(Recipe, OutOfRangeValuesAreRejectedWithTheRange) {
  EXPECT_EQ(parse_error("[optim]\nlr = -0.1\n").message(), "optim.lr must be >= 0, got -0.1");
  EXPECT_EQ(parse_error("[train]\nbatch_size = 0\n").message(),
            "train.batch_size must be >= 1, got 0");
  EXPECT_EQ(parse_error("[optim]\nmomentum = 1.0\n").message(),
            "optim.momentum must be in [0, 1), got 1");
  EXPECT_EQ(parse_error("[optim]\nlr = nan\n").message(), "optim.lr must be >= 0, got nan");
  EXPECT_EQ(parse_error("[train]\nseed = -1\n").message(), "train.seed must be >= 0, got -1");
  EXPECT_EQ(parse_error("[data]\nsamples = 1\n").message(), "data.samples must be >= 2, got 1");
  // Boundaries that are allowed.
  EXPECT_NO_THROW(parse_recipe("[optim]\nmomentum = 0.0\ndampening = 1.0\nlr = 0\n", "r.toml"));
}

TEST(Recipe, FractionsMustLeaveTrainingSamples) {
  const ConfigError e = parse_error("[data]\nval_fraction = 0.5\ntest_fraction = 0.5\n");
  EXPECT_NE(e.message().find("data.val_fraction + data.test_fraction must be < 1"),
            std::string::npos);
}

// train.tbptt carries a recurrent state from window to window: text, a recurrent layer and
// windows end to end, or a ConfigError saying which is missing.
TEST(Recipe, TbpttNeedsTextARecurrentLayerAndConsecutiveWindows) {
  const std::string lstm =
      "[[model.layers]]\ntype = \"embedding\"\ndim = 4\n[[model.layers]]\ntype = \"lstm\"\n"
      "hidden = 8\n[[model.layers]]\ntype = \"linear\"\nout = 0\n";
  const std::string text = "[data]\nsource = \"text\"\nsteps = 16\n";
  const std::string on = "[train]\ntbptt = true\n";
  EXPECT_TRUE(parse_recipe(text + lstm + on, "r.toml").train.tbptt);
  EXPECT_FALSE(parse_recipe(text + lstm, "r.toml").train.tbptt);
  EXPECT_NO_THROW(parse_recipe(text + "stride = 16\n" + lstm + on, "r.toml"));
  EXPECT_EQ(parse_error(lstm + on).message(),
            "train.tbptt needs text data (data.source = \"text\"), not \"fashion-mnist\"");
  const std::string no_rnn =
      "[[model.layers]]\ntype = \"embedding\"\ndim = 4\n[[model.layers]]\ntype = \"linear\"\n"
      "out = 0\n";
  const ConfigError e = parse_error(text + no_rnn + on);
  EXPECT_NE(e.message().find("no lstm or gru layer"), std::string::npos) << e.message();
  EXPECT_NE(e.hint().find("type = \"lstm\""), std::string::npos) << e.hint();
  const ConfigError overlap = parse_error(text + "stride = 8\n" + lstm + on);
  EXPECT_NE(overlap.message().find("data.stride = 8 with data.steps = 16"), std::string::npos)
      << overlap.message();
  EXPECT_EQ(overlap.hint(), "set data.stride = 0 (windows of data.steps, end to end)");
  // The same through --set, and the usual type error.
  EXPECT_EQ(parse_error(text + lstm, {"train.tbptt=true", "data.stride=3"}).hint(), overlap.hint());
  EXPECT_EQ(parse_error(text + lstm + "[train]\ntbptt = \"yes\"\n").message(),
            "train.tbptt must be true or false, got string \"yes\"");
  EXPECT_EQ(parse_error(text + lstm + "[train]\ntbpt = true\n").hint(), "did you mean 'tbptt'?");
}

TEST(Recipe, BadChoiceListsChoicesAndSuggests) {
  const ConfigError e = parse_error("[data]\nnormalize = \"standrd\"\n");
  EXPECT_EQ(e.message(), "data.normalize must be one of standard | none, got \"standrd\"");
  EXPECT_EQ(e.hint(), "did you mean 'standard'?");
  EXPECT_EQ(parse_error("[output]\nprogress = \"xyzzy\"\n").hint(),
            "choose one of: auto, bar, plain, none");
}

TEST(Recipe, TomlSyntaxErrorHasFileLineColumn) {
  const ConfigError e = parse_error("[optim]\nlr = = 3\n");
  EXPECT_EQ(e.where().rfind("r.toml:2:", 0), 0u) << e.where();
  EXPECT_FALSE(e.message().empty());
}

// Found by fuzz/recipe_fuzz: toml++ quotes the character it did not expect as it is, so a
// newline there split the error message over two lines.
TEST(Recipe, TomlSyntaxErrorIsOneLineWhateverTheInput) {
  for (const char* text : {"c=n\nm", "a = \"x\ty\n", "[optim\n", "x = 1\x01"}) {
    const std::string what = parse_error(text).what();
    EXPECT_EQ(what.find('\n'), std::string::npos) << what;
    EXPECT_EQ(what.find('\t'), std::string::npos) << what;
  }
}

TEST(Recipe, MissingFileIsAnIoErrorNamingThePath) {
  try {
    load_recipe("/nonexistent/x.toml");
    FAIL() << "no exception";
  } catch (const IoError& e) {
    EXPECT_EQ(e.where(), "/nonexistent/x.toml");
  }
}

TEST(Recipe, OverridesAreTypedLikeTheFile) {
  const RecipeConfig r = parse_recipe(
      "[optim]\nlr = 0.1\n", "r.toml",
      {"optim.lr=0.05", "optim.nesterov=false", "train.epochs=3", "output.name=\"my run\"",
       "data.path=/tmp/x=y", "data.target=2", "train.seed = 9"});
  EXPECT_EQ(opt(r, "lr"), FieldValue(0.05));
  EXPECT_EQ(opt(r, "nesterov"), FieldValue(false));
  EXPECT_EQ(r.train.epochs, 3);
  EXPECT_EQ(r.output.name, "my run");
  EXPECT_EQ(r.data.path, "/tmp/x=y");
  EXPECT_EQ(r.data.target, "2");
  EXPECT_EQ(r.train.seed, 9u);
}

TEST(Recipe, OverrideErrorsNameTheArgumentAndSuggest) {
  ConfigError e = parse_error("", {"optim.lrr=0.1"});
  EXPECT_EQ(e.message(), "unknown key 'optim.lrr'");
  EXPECT_EQ(e.where(), "r.toml: --set optim.lrr=0.1");
  EXPECT_EQ(e.hint(), "did you mean 'lr'?");
  EXPECT_EQ(parse_error("", {"optm.lr=0.1"}).hint(), "did you mean 'optim'?");
  EXPECT_EQ(parse_error("", {"lr=0.1"}).hint(), "did you mean 'optim.lr'?");
  EXPECT_EQ(parse_error("", {"optim.lr=abc"}).message(),
            "optim.lr must be a number, got string \"abc\"");
  EXPECT_EQ(parse_error("", {"train.batch_size=0"}).message(),
            "train.batch_size must be >= 1, got 0");
  EXPECT_EQ(parse_error("", {"optim.nesterov=yes"}).message(),
            "optim.nesterov must be true or false, got string \"yes\"");
  EXPECT_FALSE(parse_error("", {"optim.lr"}).message().empty());
}

const char* kCustom = R"(
[model]
[[model.layers]]
type = "linear"
name = "fc1"
out = 64
[[model.layers]]
type = "dropout"
p = 0.25
[[model.layers]]
type = "linear"
out = 10
)";

TEST(Recipe, LayerListMakesACustomModel) {
  const RecipeConfig r = parse_recipe(kCustom, "r.toml");
  EXPECT_EQ(r.model.name, "custom");
  ASSERT_EQ(r.model.custom.layers.size(), 3u);
  EXPECT_EQ(r.model.custom.layers[0].type, "linear");
  EXPECT_EQ(r.model.custom.layers[0].name, "fc1");
  EXPECT_EQ(r.model.custom.layers[0].args.at("out"), 64.0);
  EXPECT_EQ(r.model.custom.layers[1].args.at("p"), 0.25);
  EXPECT_EQ(r.model.custom.layers[2].name, "");
}

TEST(Recipe, LayerListErrors) {
  EXPECT_NE(parse_error("[model]\nname = \"mlp\"\n[[model.layers]]\ntype = \"relu\"\n")
                .message()
                .find("conflicts with [[model.layers]]"),
            std::string::npos);
  EXPECT_EQ(parse_error("[[model.layers]]\nout = 3\n").message(),
            "model.layers[0].type is missing");
  EXPECT_EQ(parse_error("[[model.layers]]\ntype = \"linear\"\nout = \"ten\"\n").message(),
            "model.layers[0].out must be a number, got string");
  EXPECT_NE(parse_error("[model]\nname = \"custom\"\n").message().find("needs a [[model.layers]]"),
            std::string::npos);
  EXPECT_EQ(parse_error("[model]\nlayers = 3\n").message(),
            "model.layers must be an array of tables, got integer");
}

TEST(Recipe, BuiltinModelOverrideReplacesTheLayerList) {
  const RecipeConfig r = parse_recipe(kCustom, "r.toml", {"model.name=mlp"});
  EXPECT_EQ(r.model.name, "mlp");
  EXPECT_TRUE(r.model.custom.layers.empty());
}

TEST(Recipe, ToTomlRoundTripsEveryField) {
  RecipeConfig r = parse_recipe(kCustom, "a.toml");
  r.data.path = "C:\\data \"quoted\"\ttab";
  r.data.val_fraction = 0.123456789012345;
  r.optim.set("lr", 1e-7).set("weight_decay", 3.0);
  r.train.seed = 9007199254740993ull;  // not representable as a double: must stay an integer
  r.output.checkpoint = false;
  r.model.custom.layers[1].args["weird key"] = 1.0 / 3.0;
  const std::string text = to_toml(r);
  const RecipeConfig back = parse_recipe(text, "b.toml");
  EXPECT_TRUE(same_recipe(r, back)) << text;
  EXPECT_EQ(to_toml(back), text);
}

TEST(Recipe, ToTomlOfDefaultsRoundTrips) {
  const RecipeConfig r;
  EXPECT_TRUE(same_recipe(parse_recipe(to_toml(r), "d.toml"), r));
}

TEST(Recipe, ValidateCatchesValuesSetInCode) {
  RecipeConfig r;
  r.source = "code";
  EXPECT_NO_THROW(validate_recipe(r));
  r.train.batch_size = 0;
  EXPECT_EQ(config_error([&] { validate_recipe(r); }).message(),
            "train.batch_size must be >= 1, got 0");
}

TEST(Recipe, FieldRowsCoverEveryKey) {
  const auto rows = recipe_field_rows();
  auto find = [&](const std::string& key) -> const FieldRow* {
    for (const auto& r : rows)
      if (r.key == key) return &r;
    return nullptr;
  };
  ASSERT_NE(find("optim.name"), nullptr);
  EXPECT_EQ(find("optim.name")->default_value, "\"sgd\"");
  EXPECT_NE(find("optim.name")->allowed.find("adamw"), std::string::npos);
  EXPECT_NE(find("optim.groups.lr_scale"), nullptr);
  EXPECT_EQ(find("output.progress")->allowed, "auto | bar | plain | none");
  EXPECT_EQ(find("train.epochs")->default_value, "10");
  EXPECT_NE(find("model.layers"), nullptr);
  EXPECT_NE(find("data.separation"), nullptr);
  const std::string table = format_field_rows(rows);
  EXPECT_NE(table.find("optim.groups.frozen"), std::string::npos);
}

TEST(Recipe, EveryShippedRecipeParsesAndRoundTrips) {
  const std::filesystem::path dir = std::filesystem::path(SCULPT_SOURCE_DIR) / "recipes";
  int count = 0;
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    if (entry.path().extension() != ".toml") continue;
    SCOPED_TRACE(entry.path().string());
    const RecipeConfig r = load_recipe(entry.path().string());
    EXPECT_TRUE(same_recipe(parse_recipe(to_toml(r), "x.toml"), r));
    ++count;
  }
  EXPECT_GE(count, 6);
}

// The default recipe is the combined run: workload A's MLP and optimizer with warmup + cosine,
// global-norm clipping and gradual magnitude pruning.
TEST(Recipe, DefaultRecipeIsTheCombinedRun) {
  const RecipeConfig r = load_recipe(std::string(SCULPT_SOURCE_DIR) + "/recipes/default.toml");
  EXPECT_EQ(r.schedule.name, "cosine");
  EXPECT_EQ(r.clip.name, "global-norm");
  EXPECT_EQ(r.prune.when, prune::When::kGradual);
  EXPECT_EQ(r.prune.criterion, "magnitude");
  EXPECT_EQ(r.prune.sparsity, 0.9);
  EXPECT_EQ(r.model.name, "mlp");
  EXPECT_EQ(r.optim.name, "sgd");
  EXPECT_EQ(opt(r, "lr"), FieldValue(0.1));
  EXPECT_EQ(opt(r, "momentum"), FieldValue(0.9));
  EXPECT_EQ(opt(r, "nesterov"), FieldValue(true));
  EXPECT_EQ(opt(r, "weight_decay"), FieldValue(5e-4));
  EXPECT_EQ(r.train.batch_size, 128);
  EXPECT_EQ(r.train.epochs, 10);
  EXPECT_EQ(r.data.normalize, Normalize::kStandard);
  const RecipeConfig lin = load_recipe(std::string(SCULPT_SOURCE_DIR) + "/recipes/linreg.toml");
  EXPECT_EQ(lin.data.source, DataSource::kSyntheticLinear);
  EXPECT_EQ(lin.train.loss, "mse");
  EXPECT_EQ(opt(lin, "nesterov"), FieldValue(false));
}

}  // namespace
}  // namespace sculpt

namespace sculpt {
namespace {

TEST(RecipeOptim, GroupsParseAndRoundTrip) {
  const RecipeConfig r = parse_recipe(R"([optim]
name = "adamw"
lr = 0.002
[[optim.groups]]
params = "*.bias"
weight_decay = 0.0
[[optim.groups]]
params = ["fc1.*", "fc2.weight"]
lr_scale = 0.5
frozen = true
)",
                                      "g.toml");
  ASSERT_EQ(r.optim.groups.size(), 2u);
  EXPECT_EQ(r.optim.groups[0].params, std::vector<std::string>{"*.bias"});
  EXPECT_EQ(r.optim.groups[0].weight_decay, 0.0);
  EXPECT_EQ(r.optim.groups[1].params, (std::vector<std::string>{"fc1.*", "fc2.weight"}));
  EXPECT_EQ(r.optim.groups[1].lr_scale, 0.5);
  EXPECT_TRUE(r.optim.groups[1].frozen);
  EXPECT_EQ(r.optim.groups[0].where, "g.toml:4:1");
  // AdamW's own defaults fill in what the file leaves out.
  EXPECT_EQ(opt(r, "lr"), FieldValue(0.002));
  EXPECT_EQ(opt(r, "weight_decay"), FieldValue(0.01));
  EXPECT_EQ(opt(r, "decay_style"), FieldValue(std::string("decoupled")));
  const std::string text = to_toml(r);
  const RecipeConfig back = parse_recipe(text, "back.toml");
  EXPECT_TRUE(same_recipe(r, back)) << text;
  EXPECT_EQ(to_toml(back), text);
}

TEST(RecipeOptim, BadGroupsAreNamed) {
  EXPECT_EQ(parse_error("[optim]\n[[optim.groups]]\nparams = \"*\"\nlr_scal = 2\n").message(),
            "unknown key 'optim.groups[0].lr_scal'");
  EXPECT_EQ(parse_error("[optim]\n[[optim.groups]]\nparams = \"*\"\nlr_scal = 2\n").hint(),
            "did you mean 'lr_scale'?");
  EXPECT_EQ(parse_error("[optim]\n[[optim.groups]]\nparams = \"*\"\nlr_scale = -1\n").message(),
            "optim.groups[0].lr_scale must be >= 0, got -1");
  EXPECT_EQ(
      parse_error("[optim]\n[[optim.groups]]\nparams = \"*\"\nweight_decay = -0.5\n").message(),
      "optim.groups[0].weight_decay must be -1 or >= 0, got -0.5");
  EXPECT_EQ(parse_error("[optim]\ngroups = 3\n").message(),
            "optim.groups must be an array of tables, got integer");
  EXPECT_EQ(parse_error("", {"optim.groups=1"}).message(), "optim.groups cannot be set with --set");
}

TEST(RecipeOptim, OptionsAreCheckedAgainstTheChosenOptimizer) {
  const ConfigError e = parse_error("[optim]\nname = \"adam\"\nmomentum = 0.9\n");
  EXPECT_EQ(e.message(), "optim.momentum is not a field of optim.name = \"adam\"");
  EXPECT_EQ(e.where(), "r.toml:3:12");
  EXPECT_EQ(parse_error("[optim]\nname = \"adam\"\nbeta_1 = 0.9\n").hint(),
            "did you mean 'beta1'?");
  EXPECT_EQ(parse_error("[optim]\nname = \"adam\"\neps = 0\n").message(),
            "optim.eps must be > 0, got 0");
  EXPECT_EQ(parse_error("", {"optim.name=rmsprop", "optim.alpha=1.5"}).message(),
            "optim.alpha must be in [0, 1), got 1.5");
}

TEST(RecipeOptim, ChangingTheOptimizerOnTheCommandLineKeepsOnlyItsOptions) {
  const RecipeConfig r =
      parse_recipe("[optim]\nname = \"sgd\"\nlr = 0.1\nmomentum = 0.9\nnesterov = true\n", "r.toml",
                   {"optim.name=adam"});
  EXPECT_EQ(r.optim.name, "adam");
  EXPECT_EQ(opt(r, "lr"), FieldValue(0.1));  // adam has lr: kept
  EXPECT_EQ(opt(r, "beta1"), FieldValue(0.9));
  EXPECT_EQ(r.optim.options.find("momentum"), nullptr);
}

}  // namespace
}  // namespace sculpt

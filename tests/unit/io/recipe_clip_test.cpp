// [clip] in recipes: the clipper's name picks its keys; bad values, unknown keys and unknown
// names give one error naming the field; --set clip.name=X drops the other clipper's keys;
// to_toml writes the resolved options and reads back the same.
#include <fmt/format.h>
#include <gtest/gtest.h>

#include <functional>

#include "clip/clipper.h"
#include "core/error.h"
#include "io/recipe.h"

namespace sculpt {
namespace {

ConfigError clip_parse_error(const std::string& text, std::vector<std::string> overrides = {}) {
  try {
    parse_recipe(text, "r.toml", overrides);
  } catch (const ConfigError& e) {
    return e;
  } catch (const std::exception& e) {
    ADD_FAILURE() << "wrong exception type: " << e.what();
    return ConfigError("");
  }
  ADD_FAILURE() << "no exception for:\n" << text;
  return ConfigError("");
}

FieldValue value(const RecipeConfig& r, std::string_view key) {
  const Option* o = r.clip.options.find(key);
  return o ? o->value : FieldValue(std::string("<missing>"));
}

TEST(RecipeClip, DefaultIsNoClipping) {
  const RecipeConfig r = parse_recipe("", "r.toml");
  EXPECT_EQ(r.clip.name, "none");
  EXPECT_TRUE(r.clip.options.empty());
  EXPECT_NE(to_toml(r).find("\n[clip]\nname = \"none\"\n"), std::string::npos);
}

TEST(RecipeClip, OptionsAreResolvedWithTheClippersDefaults) {
  const RecipeConfig r = parse_recipe("[clip]\nname = \"global-norm\"\nmax_norm = 5\n", "r.toml");
  EXPECT_EQ(r.clip.name, "global-norm");
  EXPECT_EQ(value(r, "max_norm"), FieldValue(5.0));
  EXPECT_EQ(value(r, "norm_type"), FieldValue(std::string("2")));
  EXPECT_EQ(value(r, "eps"), FieldValue(1e-6));
  // norm_type may be written as the number torch takes
  const RecipeConfig inf = parse_recipe("[clip]\nname = \"norm\"\nnorm_type = 2\n", "r.toml");
  EXPECT_EQ(value(inf, "norm_type"), FieldValue(std::string("2")));
  const RecipeConfig ac = parse_recipe("[clip]\nname = \"autoclip\"\n", "r.toml");
  EXPECT_EQ(value(ac, "percentile"), FieldValue(10.0));
  EXPECT_EQ(value(ac, "history"), FieldValue(int64_t{0}));
  const RecipeConfig agc = parse_recipe("[clip]\nname = \"agc\"\n", "r.toml");
  EXPECT_EQ(value(agc, "clipping"), FieldValue(0.01));
  EXPECT_EQ(value(agc, "eps"), FieldValue(1e-3));
}

TEST(RecipeClip, BadValuesNameTheField) {
  EXPECT_EQ(clip_parse_error("[clip]\nname = \"global-norm\"\nmax_norm = 0\n").message(),
            "clip.max_norm must be > 0, got 0");
  EXPECT_EQ(clip_parse_error("[clip]\nname = \"norm\"\nmax_norm = -1.5\n").message(),
            "clip.max_norm must be > 0, got -1.5");
  const ConfigError v = clip_parse_error("[clip]\nname = \"value\"\nmax_value = 0.0\n");
  EXPECT_EQ(v.message(), "clip.max_value must be > 0, got 0");
  EXPECT_EQ(v.where(), "r.toml:3:13");
  EXPECT_EQ(clip_parse_error("[clip]\nname = \"autoclip\"\npercentile = 0\n").message(),
            "clip.percentile must be in (0, 100], got 0");
  EXPECT_EQ(clip_parse_error("[clip]\nname = \"autoclip\"\npercentile = 100.5\n").message(),
            "clip.percentile must be in (0, 100], got 100.5");
  EXPECT_NO_THROW(parse_recipe("[clip]\nname = \"autoclip\"\npercentile = 100\n", "r.toml"));
  EXPECT_EQ(clip_parse_error("[clip]\nname = \"autoclip\"\nhistory = -3\n").message(),
            "clip.history must be >= 0, got -3");
  EXPECT_EQ(clip_parse_error("[clip]\nname = \"norm\"\nnorm_type = \"l1\"\n").message(),
            "clip.norm_type must be one of 2 | inf, got \"l1\"");
  EXPECT_EQ(clip_parse_error("", {"clip.name=value", "clip.max_value=-2"}).message(),
            "clip.max_value must be > 0, got -2");
}

TEST(RecipeClip, UnknownKeysAndNamesSuggest) {
  const ConfigError typo = clip_parse_error("[clip]\nname = \"global-norm\"\nmax_nrom = 1\n");
  EXPECT_EQ(typo.message(), "unknown key 'clip.max_nrom'");
  EXPECT_EQ(typo.hint(), "did you mean 'max_norm'?");
  const ConfigError other = clip_parse_error("[clip]\nname = \"global-norm\"\npercentile = 50\n");
  EXPECT_EQ(other.message(), "clip.percentile is not a field of clip.name = \"global-norm\"");
  EXPECT_EQ(other.hint(), "global-norm takes: max_norm norm_type eps");
  const ConfigError name = clip_parse_error("[clip]\nname = \"globalnorm\"\n");
  // Every rule of the registry, in its order.
  EXPECT_EQ(name.message(), fmt::format("clip.name must be one of {}, got \"globalnorm\"",
                                        fmt::join(clip::clipper_names(), " | ")));
  EXPECT_EQ(name.hint(), "did you mean 'global-norm'?");
  EXPECT_EQ(clip_parse_error("", {"clip.name=agcc"}).hint(), "did you mean 'agc'?");
  EXPECT_EQ(clip_parse_error("", {"clip.maxnorm=1"}).hint(), "did you mean 'max_norm'?");
}

TEST(RecipeClip, ChangingTheClipperOnTheCommandLineKeepsOnlyItsKeys) {
  const RecipeConfig r =
      parse_recipe("[clip]\nname = \"norm\"\nmax_norm = 2.0\nnorm_type = \"inf\"\n", "r.toml",
                   {"clip.name=global-norm"});
  EXPECT_EQ(r.clip.name, "global-norm");
  EXPECT_EQ(value(r, "max_norm"), FieldValue(2.0));  // global-norm has it too: kept
  EXPECT_EQ(value(r, "norm_type"), FieldValue(std::string("inf")));
  const RecipeConfig v = parse_recipe("[clip]\nname = \"norm\"\nmax_norm = 2.0\n", "r.toml",
                                      {"clip.name=value", "clip.max_value=0.1"});
  EXPECT_EQ(v.clip.options.find("max_norm"), nullptr);
  EXPECT_EQ(value(v, "max_value"), FieldValue(0.1));
}

TEST(RecipeClip, ToTomlWritesTheResolvedOptionsAndRoundTrips) {
  for (const clip::ClipperInfo& info : clip::clipper_infos()) {
    SCOPED_TRACE(info.name);
    const RecipeConfig r = parse_recipe(info.example, "example");
    const std::string text = to_toml(r);
    for (const std::string& key : clip::clipper_index().fields(info.name))
      EXPECT_NE(text.find("\n" + key + " = "), std::string::npos) << key << " in\n" << text;
    const RecipeConfig back = parse_recipe(text, "back.toml");
    EXPECT_EQ(back.clip.name, r.clip.name);
    EXPECT_EQ(back.clip.options, r.clip.options);
    EXPECT_EQ(to_toml(back), text);
  }
}

TEST(RecipeClip, ConfigsBuiltInCodeAreChecked) {
  ClipConfig c;
  c.set("name", std::string("global-norm")).set("max_norm", 0.0);
  try {
    clip::make_clipper(c);
    ADD_FAILURE() << "no exception";
  } catch (const ConfigError& e) {
    EXPECT_EQ(e.message(), "clip.max_norm must be > 0, got 0");
  }
  RecipeConfig r;
  r.clip.set("name", std::string("nope"));
  EXPECT_THROW(validate_recipe(r), ConfigError);
  EXPECT_NE(clip::make_clipper(ClipConfig{}), nullptr);
}

TEST(RecipeClip, FieldRowsMentionTheTable) {
  bool found = false;
  for (const FieldRow& row : recipe_field_rows()) found = found || row.key == "clip.name";
  EXPECT_TRUE(found);
}

}  // namespace
}  // namespace sculpt

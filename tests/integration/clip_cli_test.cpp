// The clippers on the command line: `sculpt list clippers` (and --markdown, which writes
// docs/clipping.md), and bad [clip] values rejected before a run starts: exit 2, one line naming
// the field, no run directory.
#include <fmt/format.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>

#include "cli_harness.h"

namespace sculpt::testing {
namespace {

TEST(ClipCli, ListClippersShowsEveryRuleWithItsKeys) {
  const CliResult r = run_cli("list clippers");
  ASSERT_EQ(r.code, 0) << r.output;
  for (const char* s : {"none", "value", "global-norm", "agc", "autoclip", "clip.max_norm",
                        "clip.norm_type", "clip.percentile", "clip.clipping",
                        "torch.nn.utils.clip_grad_norm_", "Brock", "Seetharaman"})
    EXPECT_NE(r.output.find(s), std::string::npos) << s;
  const CliResult md = run_cli("list clippers --markdown");
  ASSERT_EQ(md.code, 0) << md.output;
  EXPECT_NE(md.output.find("## `global-norm`: "), std::string::npos) << md.output;
  EXPECT_NE(md.output.find("| `clip.percentile` | `10.0` | in (0, 100] |"), std::string::npos)
      << md.output;
  const CliResult recipe = run_cli("list recipe");
  EXPECT_NE(recipe.output.find("clip.name"), std::string::npos) << recipe.output;
}

TEST(ClipCli, BadClipValuesNameTheField) {
  TempDir dir("clip");
  const std::string base = "[data]\nlimit_train = 300\nlimit_test = 100\n[train]\nepochs = 1\n";
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"[clip]\nname = \"global-norm\"\nmax_norm = 0\n", "clip.max_norm must be > 0, got 0"},
      {"[clip]\nname = \"norm\"\nmax_norm = -1\n", "clip.max_norm must be > 0, got -1"},
      {"[clip]\nname = \"value\"\nmax_value = 0\n", "clip.max_value must be > 0, got 0"},
      {"[clip]\nname = \"autoclip\"\npercentile = 0\n",
       "clip.percentile must be in (0, 100], got 0"},
      {"[clip]\nname = \"autoclip\"\npercentile = 150\n",
       "clip.percentile must be in (0, 100], got 150"},
      {"[clip]\nname = \"global-norm\"\nmax_nrom = 1\n",
       "unknown key 'clip.max_nrom' (hint: did you mean 'max_norm'?)"},
      {"[clip]\nname = \"value\"\nmax_norm = 1\n",
       "clip.max_norm is not a field of clip.name = \"value\""},
      {"[clip]\nname = \"global_norm\"\n", "did you mean 'global-norm'?"},
  };
  for (size_t i = 0; i < cases.size(); ++i) {
    SCOPED_TRACE(cases[i].first);
    const std::string recipe = dir.write(fmt::format("r{}.toml", i), base + cases[i].first);
    const std::string run = dir.file(fmt::format("run{}", i));
    const CliResult r = run_cli("train -q --recipe " + recipe + " --out " + run);
    EXPECT_EQ(r.code, 2) << r.output;
    EXPECT_NE(r.output.find(cases[i].second), std::string::npos) << r.output;
    EXPECT_EQ(std::count(r.output.begin(), r.output.end(), '\n'), 1) << r.output;
    EXPECT_FALSE(std::filesystem::exists(run)) << "no run dir for a run that cannot start";
  }
  const CliResult set =
      run_cli("train -q --recipe " + dir.write("s.toml", base) + " --out " + dir.file("s") +
              " --set clip.name=autoclip --set clip.percentile=0");
  EXPECT_EQ(set.code, 2) << set.output;
  EXPECT_NE(set.output.find("clip.percentile must be in (0, 100], got 0"), std::string::npos)
      << set.output;
}

}  // namespace
}  // namespace sculpt::testing

// Internal to the CLI: the table of verbs filled by add_<verb>.
#pragma once

#include <CLI/CLI.hpp>
#include <functional>
#include <string>
#include <vector>

namespace sculpt::cli {

struct Verb {
  CLI::App* sub;
  std::function<int()> run;
};

void register_verb(CLI::App* sub, std::function<int()> run);

// The options several verbs share, with one wording: --set,-s (recipe overrides, repeatable),
// --recipe,-r, and --checkpoint,-c (a run directory or a checkpoint file).
CLI::Option* add_set_option(CLI::App* sub, std::vector<std::string>& sets);
CLI::Option* add_recipe_option(CLI::App* sub, std::string& recipe);
CLI::Option* add_checkpoint_option(CLI::App* sub, std::string& path);

// How the user invoked us (argv[0]), for commands we suggest they run next.
const std::string& program_name();

}  // namespace sculpt::cli

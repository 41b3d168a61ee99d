// The options several verbs share (verb.h, output_guard.h).
#include "cli/output_guard.h"
#include "cli/verb.h"

namespace sculpt::cli {

CLI::Option* add_force_flag(CLI::App* sub, bool& force) {
  return sub->add_flag("--force", force,
                       "Replace an existing output (a run directory, or a file this command did "
                       "not write); never an input");
}

CLI::Option* add_set_option(CLI::App* sub, std::vector<std::string>& sets) {
  return sub->add_option("--set,-s", sets, "Override a recipe value: table.key=value (repeatable)")
      ->take_all();
}

CLI::Option* add_recipe_option(CLI::App* sub, std::string& recipe) {
  return sub->add_option("--recipe,-r", recipe, "Recipe file (TOML)");
}

CLI::Option* add_checkpoint_option(CLI::App* sub, std::string& path) {
  return sub->add_option("--checkpoint,-c", path, "Run directory or checkpoint file");
}

}  // namespace sculpt::cli
